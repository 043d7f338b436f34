//! Abuse limits: how often one address or one account may do the actions an
//! attacker would repeat — guessing API tokens or one-time links, sending
//! invitations, issuing reset links, creating API tokens, uploading files,
//! calling the API. Counted in the database ([`openwarp_store::Store::hit_rate`]),
//! so they hold across instances. Over the limit: 429 with `Retry-After` and
//! a message saying what to do. (Password sign-in and one-time codes have
//! their own throttle, with failures counted per account and address.)

use crate::AppState;
use crate::error::AppError;
use openwarp_store::now;

/// One limit: at most `max` per `window_seconds`, per subject.
#[derive(Debug, Clone, Copy)]
pub struct Limit {
    pub bucket: &'static str,
    pub max: i64,
    pub window_seconds: i64,
    /// What is limited, for the message ("invitations").
    pub what: &'static str,
}

/// API calls per user (all their tokens): 10 a second on average.
pub const API_CALLS: Limit = Limit {
    bucket: "api",
    max: 600,
    window_seconds: 60,
    what: "API requests",
};
/// API calls with a missing or wrong token, per address.
pub const API_BAD_TOKENS: Limit = Limit {
    bucket: "api_bad_token",
    max: 30,
    window_seconds: 600,
    what: "API requests without a valid token",
};
/// Invitations sent, per person inviting.
pub const INVITATIONS: Limit = Limit {
    bucket: "invite",
    max: 50,
    window_seconds: 3600,
    what: "invitations",
};
/// Password-reset links issued, per person issuing them.
pub const RESET_LINKS: Limit = Limit {
    bucket: "reset_issue",
    max: 30,
    window_seconds: 3600,
    what: "password-reset links",
};
/// One-time links (invitations, resets) opened or used, per address.
pub const ONE_TIME_LINKS: Limit = Limit {
    bucket: "one_time_link",
    max: 30,
    window_seconds: 900,
    what: "attempts with one-time links",
};
/// API tokens created, per user.
pub const API_TOKENS: Limit = Limit {
    bucket: "api_token_create",
    max: 10,
    window_seconds: 3600,
    what: "new API tokens",
};
/// Files uploaded (inventories, evidence), per user.
pub const UPLOADS: Limit = Limit {
    bucket: "upload",
    max: 60,
    window_seconds: 3600,
    what: "uploads",
};

/// Count one action by `subject` and refuse it when over `limit`.
pub async fn check(state: &AppState, limit: Limit, subject: &str) -> Result<(), AppError> {
    if !state.config.rate_limits {
        return Ok(());
    }
    let n = state
        .store
        .hit_rate(limit.bucket, subject, limit.window_seconds, now())
        .await?;
    if n > limit.max {
        let minutes = (limit.window_seconds + 59) / 60;
        tracing::warn!(bucket = limit.bucket, subject, "rate limit reached");
        return Err(AppError::TooManyRequests(format!(
            "too many {} (at most {} in {} minute{}); wait a few minutes and try again",
            limit.what,
            limit.max,
            minutes,
            if minutes == 1 { "" } else { "s" }
        )));
    }
    Ok(())
}

/// The subject for a user's limits.
pub fn user(id: openwarp_core::UserId) -> String {
    format!("user:{}", id.0)
}

/// The subject for an address's limits.
pub fn address(ip: &str) -> String {
    format!("ip:{ip}")
}

//! The webhook edge: POSTs a rendered payload to a member's receiver,
//! signed so the receiver can tell it came from this WARP and was not
//! replayed from long ago.
//!
//! Headers: `Idempotency-Key` (the delivery's key: the same on a resend, so
//! the receiver can drop duplicates), `X-Openwarp-Timestamp` (Unix seconds)
//! and `X-Openwarp-Signature: sha256=<hex HMAC-SHA256(secret,
//! "{timestamp}.{body}")>` — the scheme Stripe and Slack use, so receivers
//! know how to check it (and reject old timestamps).
//!
//! A 2xx answer is delivered. A 4xx other than 408 (timeout) and 429 (too
//! many requests) means the receiver will never take this request, so it is
//! permanent; anything else (5xx, redirects, network errors) is retried.
//! Redirects are not followed: a webhook posts where the member said.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::time::Duration;

/// What went wrong posting to a webhook.
#[derive(Debug, thiserror::Error)]
pub enum WebhookError {
    #[error("setting up the HTTP client: {0}")]
    Client(String),
    /// The receiver refused this request for good.
    #[error("the receiver refused the request: HTTP {status}")]
    Refused { status: u16 },
    /// The receiver failed or was unreachable: try again later.
    #[error("posting failed (will retry): {0}")]
    Transient(String),
}

impl WebhookError {
    /// Whether retrying cannot help.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, WebhookError::Transient(_))
    }
}

/// `sha256=<hex>` over `"{timestamp}.{body}"`.
pub fn signature(secret: &str, timestamp: i64, body: &str) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        // HMAC takes keys of any length; this cannot happen.
        return String::new();
    };
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

/// An HTTP client for webhooks (rustls, no redirects, a timeout).
#[derive(Debug, Clone)]
pub struct WebhookClient {
    http: reqwest::Client,
}

impl WebhookClient {
    pub fn new(timeout: Duration) -> Result<WebhookClient, WebhookError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("openwarp/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| WebhookError::Client(e.to_string()))?;
        Ok(WebhookClient { http })
    }

    /// POST `body` (JSON) to `url`, signed with `secret` at `timestamp`.
    pub async fn post(
        &self,
        url: &str,
        secret: &str,
        idempotency_key: &str,
        timestamp: i64,
        body: String,
    ) -> Result<(), WebhookError> {
        let signature = signature(secret, timestamp, &body);
        let response = self
            .http
            .post(url)
            .header(reqwest::header::CONTENT_TYPE, "application/json")
            .header("Idempotency-Key", idempotency_key)
            .header("X-Openwarp-Timestamp", timestamp.to_string())
            .header("X-Openwarp-Signature", signature)
            .body(body)
            .send()
            .await
            .map_err(|e| {
                // A URL that cannot be requested at all will not improve.
                if e.is_builder() {
                    WebhookError::Refused { status: 0 }
                } else {
                    WebhookError::Transient(without_url(&e))
                }
            })?;
        let status = response.status();
        if status.is_success() {
            return Ok(());
        }
        let code = status.as_u16();
        if status.is_client_error() && code != 408 && code != 429 {
            return Err(WebhookError::Refused { status: code });
        }
        Err(WebhookError::Transient(format!("HTTP {code}")))
    }
}

/// A reqwest error without its URL: webhook URLs often embed a token
/// (Slack's, Teams'), and errors are stored and shown to operators.
fn without_url(e: &reqwest::Error) -> String {
    let mut chain = e.to_string();
    if let Some(url) = e.url() {
        chain = chain.replace(url.as_str(), "<webhook URL>");
    }
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        chain.push_str(": ");
        chain.push_str(&s.to_string());
        source = s.source();
    }
    chain
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_is_hex_hmac_of_timestamp_dot_body() {
        // Computed independently: Python's
        // hmac.new(b"key", b"1700000000.{}", "sha256").hexdigest()
        assert_eq!(
            signature("key", 1_700_000_000, "{}"),
            "sha256=9d713ed406bb7076d4123f0dc2c39d2df5c654ed4b0cd56b52c8b4c940bd63ae"
        );
        assert_ne!(signature("key", 1, "{}"), signature("key", 2, "{}"));
        assert_ne!(signature("a", 1, "{}"), signature("b", 1, "{}"));
    }
}

//! openwarp's delivery edge: turns the alerts and digests the store queued
//! into e-mails and webhook posts, and sends them.
//!
//! The store decides *who* is told *what* (in the same transaction that
//! changes an exposure, so nothing is lost between the two) and keeps the
//! outbox; this crate only renders and carries:
//!
//! - [`render`]: pure. Subjects, text and HTML e-mail (askama templates in
//!   `templates/`), digests, and the JSON, Teams and Slack webhook payloads.
//!   The TLP label leads every subject and opens and closes every body.
//! - [`smtp`]: lettre over tokio with rustls; tells a permanent refusal (5xx)
//!   from a failure worth retrying.
//! - [`webhook`]: reqwest with an HMAC-SHA256 signature, the idempotency key
//!   and a timestamp in headers.
//! - [`worker`]: the loop `openwarp serve` runs: claim due deliveries under a
//!   lease, send a few at a time, record each outcome (sent, retry with
//!   backoff, dead letter), queue digests once a minute.
//!
//! Delivery is at-least-once: a message is marked sent only after the
//! server accepted it, so a crash between the two re-sends it — with the
//! same `Message-ID` (derived from the delivery's idempotency key) or
//! `Idempotency-Key`, so the receiver can drop the duplicate.

pub mod render;
pub mod smtp;
#[cfg(feature = "testing")]
pub mod testing;
pub mod webhook;
pub mod worker;

pub use smtp::{Mailer, SmtpConfig, SmtpError, SmtpSecurity};
pub use webhook::{WebhookClient, WebhookError};
pub use worker::{AlertsConfig, AlertsError, BatchCounts, Deliverer, deliver_due, run};

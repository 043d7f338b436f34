//! The delivery edge end to end, in one test binary: a real store (SQLite;
//! PostgreSQL too when `OPENWARP_TEST_POSTGRES_URL` is set, as under
//! `cargo xtask ci`), real advisories that match a member's inventory, and
//! a real SMTP server (aiosmtpd) or HTTP receiver on loopback. Assertions
//! are on what the servers received.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: failing loudly is the point

mod concurrency;
mod email;
mod failures;
mod support;
mod webhook;

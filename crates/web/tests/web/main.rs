//! Integration tests of the real server over real HTTP on loopback, against a
//! fresh SQLite file and (when available, always in CI) a fresh PostgreSQL
//! database, plus an end-to-end run in headless Chromium. One test binary, so
//! the workspace links it once.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: failing loudly is the point

mod access_matrix;
mod advisories;
mod alerts;
mod api;
mod audit;
// Assessments (issue 8)
mod assessments;
// End of assessments (issue 8)
mod browser;
mod discussion;
mod exposure;
mod incidents;
mod limits;
mod meetings;
mod metrics;
mod mfa;
mod news;
mod pages;
mod polls;
mod roles;
mod support;
mod warp_advisories;
// Federation (issue 9)
mod federation;
mod taxii;
// End of federation (issue 9)

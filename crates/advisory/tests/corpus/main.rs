//! Every parser over the real corpora in `../shared/data`: record counts must
//! match the files, nothing may panic. One test binary for the crate.
//! Outside CI a missing corpus skips with a message; under `CI=true` it fails.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: failing loudly is the point

mod support;

mod fuzz;

mod csaf;
mod cve5;
mod epss;
mod kev;
mod nvd;
mod osv;

//! Vulnerability intelligence for openwarp: the normalised advisory model and
//! parsers for the formats the world publishes advisories in.
//!
//! Pure like `openwarp-core`: parsers take bytes that the caller has already
//! read (and decompressed) and hand back typed records; they never touch the
//! file system or network, never panic, and reject a malformed record with a
//! precise reason while the rest of the file proceeds.
//!
//! The model keeps every source's own statement (an NVD configuration tree,
//! a CVE 5 `affected` block, an OSV range, a CSAF product status) rather than
//! flattening them, so the matcher can apply each format's exact semantics and
//! show members *why* they were told.

pub mod applicability;
pub mod change;
pub mod cpe;
pub mod cpedict;
pub mod csaf;
pub mod cve5;
pub mod cvss;
pub mod detect;
pub mod epss;
pub mod kev;
pub mod model;
pub mod nvd;
pub mod osv;
pub mod parse;
pub mod ranges;
pub mod summary;
pub mod time;
pub mod version;

pub use detect::{Format, detect};
pub use model::*;

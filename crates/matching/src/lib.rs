//! openwarp's matching core: which advisories affect what a member runs, and
//! why; how urgent each is; and the one line that tells a busy person what to
//! do. Pure: no database, no clock, no network — the store and the web layer
//! call it.
//!
//! - [`inventory`]: items as members give them (CPE, purl or plain text), validated.
//! - [`purl`]: package URLs and the package keys that meet OSV and CVE 5 statements.
//! - [`keys`]: the index keys of statements and items, so a changed advisory
//!   reaches only the items it can affect (and vice versa).
//! - [`matcher`]: each source's semantics applied to an item, with evidence; CSAF VEX suppression.
//! - [`priority`]: P1–P4 from exploitation, severity, EPSS and the item's criticality, in words.
//! - [`explain`]: the plain-English line per exposure.
//! - [`sbom`], [`table`]: CycloneDX import; CSV import and export.
//! - [`alert`]: follow-up rules, subscriptions and routing, retry backoff, digest windows.
//! - [`resolver`]: plain vendor/product text to ranked CPE suggestions.

pub mod alert;
pub mod explain;
pub mod inventory;
pub mod keys;
pub mod matcher;
pub mod priority;
pub mod purl;
pub mod resolver;
pub mod sbom;
pub mod status;
pub mod table;

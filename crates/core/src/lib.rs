//! The pure domain core of openwarp.
//!
//! Everything in this crate is a plain function over plain types: no database,
//! no clock (callers pass `today`), no network, no async. That makes the rules a
//! WARP lives by — who may see which organisation, what a member pays, what a
//! valid e-mail address is — cheap to test exhaustively and impossible to
//! bypass by going around the web layer.
//!
//! Outer layers (`openwarp-store`, `openwarp-web`, the `openwarp` binary) parse
//! untrusted input into these types at the edge and trust them afterwards.

pub mod access;
pub mod account;
// Assessments (issue 8)
pub mod assessment;
// End of assessments (issue 8)
pub mod discussion;
// Federation (issue 9)
pub mod federation;
// End of federation (issue 9)
pub mod ids;
pub mod incident;
pub mod meeting;
pub mod membership;
pub mod mfa;
pub mod news;
pub mod poll;
pub mod supplier;
pub mod tlp;
pub mod validation;
pub mod warp_advisory;

pub use access::{Actor, Denied};
pub use account::{Email, Password, Role};
pub use ids::{OrgId, UserId};
pub use membership::{
    Contact, CouncilType, FeeSchedule, Governance, MembershipStatus, OrganisationDraft,
    OrganisationInput, Pence, RenewalState,
};
pub use supplier::{SupplierDraft, SupplierKind, SupplierProblem, supplier_key};
pub use tlp::TlpLabel;
pub use validation::{FieldError, ValidationErrors};

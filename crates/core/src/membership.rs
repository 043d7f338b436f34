//! Member organisations: their type, the fee they pay, membership status,
//! renewal and governance.
//!
//! The annual fee is always *computed* from the organisation's type and its
//! membership of the regional employers' organisation; it is never typed in.

use crate::account::Email;
use crate::validation::{self, ValidationErrors};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The kind of public-sector body a member is. Decides the base fee.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouncilType {
    DistrictBorough,
    Unitary,
    County,
    OtherPublicSector,
}

impl CouncilType {
    pub const ALL: [CouncilType; 4] = [
        CouncilType::DistrictBorough,
        CouncilType::Unitary,
        CouncilType::County,
        CouncilType::OtherPublicSector,
    ];

    /// Stable machine name, used in storage, forms and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            CouncilType::DistrictBorough => "district_borough",
            CouncilType::Unitary => "unitary",
            CouncilType::County => "county",
            CouncilType::OtherPublicSector => "other_public_sector",
        }
    }

    /// Plain-English label for people.
    pub fn label(self) -> &'static str {
        match self {
            CouncilType::DistrictBorough => "District or borough council",
            CouncilType::Unitary => "Unitary council",
            CouncilType::County => "County council",
            CouncilType::OtherPublicSector => "Other public-sector body",
        }
    }
}

impl fmt::Display for CouncilType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A string that names no known value of a closed set.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} '{value}'; expected one of: {expected}")]
pub struct UnknownValue {
    pub kind: &'static str,
    pub value: String,
    pub expected: &'static str,
}

impl FromStr for CouncilType {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        CouncilType::ALL
            .into_iter()
            .find(|t| t.as_str() == s.trim())
            .ok_or_else(|| UnknownValue {
                kind: "organisation type",
                value: s.to_string(),
                expected: "district_borough, unitary, county, other_public_sector",
            })
    }
}

/// An amount of money in pence. Kept integral so fees never suffer rounding drift.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
#[serde(transparent)]
pub struct Pence(pub i64);

impl Pence {
    pub fn from_pounds(pounds: i64) -> Pence {
        Pence(pounds * 100)
    }
}

impl std::ops::Add for Pence {
    type Output = Pence;
    fn add(self, rhs: Pence) -> Pence {
        Pence(self.0 + rhs.0)
    }
}

impl std::iter::Sum for Pence {
    fn sum<I: Iterator<Item = Pence>>(iter: I) -> Pence {
        iter.fold(Pence(0), |a, b| a + b)
    }
}

impl fmt::Display for Pence {
    /// `£1,000`, or `£612.50` when there are pence.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        let pounds = abs / 100;
        let pence = abs % 100;
        let digits = pounds.to_string();
        let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
        for (i, c) in digits.chars().enumerate() {
            if i > 0 && (digits.len() - i).is_multiple_of(3) {
                grouped.push(',');
            }
            grouped.push(c);
        }
        if pence == 0 {
            write!(f, "{sign}£{grouped}")
        } else {
            write!(f, "{sign}£{grouped}.{pence:02}")
        }
    }
}

/// The WARP's fee schedule. Lives in configuration; these are the defaults.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FeeSchedule {
    /// Annual fee in whole pounds for a district or borough council.
    pub district_borough: i64,
    /// Annual fee in whole pounds for a unitary council.
    pub unitary: i64,
    /// Annual fee in whole pounds for a county council.
    pub county: i64,
    /// Annual fee in whole pounds for any other public-sector body.
    pub other_public_sector: i64,
    /// Premium, in percent, for organisations that are not members of the
    /// regional employers' organisation.
    pub non_employers_premium_percent: i64,
}

impl Default for FeeSchedule {
    fn default() -> Self {
        FeeSchedule {
            district_borough: 500,
            unitary: 750,
            county: 1000,
            other_public_sector: 500,
            non_employers_premium_percent: 20,
        }
    }
}

/// A fee schedule that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("fee schedule: {field} must be between {min} and {max} (got {value})")]
pub struct InvalidFeeSchedule {
    pub field: &'static str,
    pub value: i64,
    pub min: i64,
    pub max: i64,
}

impl FeeSchedule {
    /// Reject negative or absurd amounts before they reach an invoice.
    pub fn validate(&self) -> Result<(), InvalidFeeSchedule> {
        let checks = [
            ("district_borough", self.district_borough, 0, 1_000_000),
            ("unitary", self.unitary, 0, 1_000_000),
            ("county", self.county, 0, 1_000_000),
            (
                "other_public_sector",
                self.other_public_sector,
                0,
                1_000_000,
            ),
            (
                "non_employers_premium_percent",
                self.non_employers_premium_percent,
                0,
                1000,
            ),
        ];
        for (field, value, min, max) in checks {
            if !(min..=max).contains(&value) {
                return Err(InvalidFeeSchedule {
                    field,
                    value,
                    min,
                    max,
                });
            }
        }
        Ok(())
    }

    /// The base fee for a type of organisation, before any premium.
    pub fn base_fee(&self, kind: CouncilType) -> Pence {
        Pence::from_pounds(match kind {
            CouncilType::DistrictBorough => self.district_borough,
            CouncilType::Unitary => self.unitary,
            CouncilType::County => self.county,
            CouncilType::OtherPublicSector => self.other_public_sector,
        })
    }

    /// The annual fee: the base fee, plus the premium when the organisation is
    /// not a member of the employers' organisation. Rounded half-up to the penny.
    pub fn annual_fee(&self, kind: CouncilType, employers_member: bool) -> Pence {
        let base = self.base_fee(kind).0;
        if employers_member {
            return Pence(base);
        }
        let scaled = base * (100 + self.non_employers_premium_percent);
        Pence((scaled + 50) / 100)
    }
}

/// Where an organisation stands as a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MembershipStatus {
    /// Joining: agreed in principle, not yet paid.
    Pending,
    /// A member in good standing.
    Active,
    /// Renewal not paid; access continues while the operator chases.
    Lapsed,
    /// Access withdrawn by the operator.
    Suspended,
    /// No longer a member.
    Left,
}

impl MembershipStatus {
    pub const ALL: [MembershipStatus; 5] = [
        MembershipStatus::Pending,
        MembershipStatus::Active,
        MembershipStatus::Lapsed,
        MembershipStatus::Suspended,
        MembershipStatus::Left,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MembershipStatus::Pending => "pending",
            MembershipStatus::Active => "active",
            MembershipStatus::Lapsed => "lapsed",
            MembershipStatus::Suspended => "suspended",
            MembershipStatus::Left => "left",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            MembershipStatus::Pending => "Pending",
            MembershipStatus::Active => "Active",
            MembershipStatus::Lapsed => "Lapsed",
            MembershipStatus::Suspended => "Suspended",
            MembershipStatus::Left => "Left",
        }
    }

    /// Whether the organisation's users may sign in at all.
    pub fn allows_sign_in(self) -> bool {
        matches!(
            self,
            MembershipStatus::Pending | MembershipStatus::Active | MembershipStatus::Lapsed
        )
    }

    /// Whether the organisation owes a fee this year.
    pub fn is_billable(self) -> bool {
        matches!(
            self,
            MembershipStatus::Pending | MembershipStatus::Active | MembershipStatus::Lapsed
        )
    }
}

impl fmt::Display for MembershipStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for MembershipStatus {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        MembershipStatus::ALL
            .into_iter()
            .find(|t| t.as_str() == s.trim())
            .ok_or_else(|| UnknownValue {
                kind: "membership status",
                value: s.to_string(),
                expected: "pending, active, lapsed, suspended, left",
            })
    }
}

/// How close an organisation's renewal is, relative to `today`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "state", content = "days", rename_all = "snake_case")]
pub enum RenewalState {
    /// The renewal date has passed by this many days.
    Overdue(i64),
    /// Renewal falls within the notice window, in this many days (0 = today).
    DueSoon(i64),
    /// Renewal is further away than the notice window.
    Current(i64),
}

impl RenewalState {
    /// Days of notice an operator wants before a renewal.
    pub const NOTICE_DAYS: i64 = 60;

    pub fn of(renewal: NaiveDate, today: NaiveDate) -> RenewalState {
        let days = (renewal - today).num_days();
        if days < 0 {
            RenewalState::Overdue(-days)
        } else if days <= Self::NOTICE_DAYS {
            RenewalState::DueSoon(days)
        } else {
            RenewalState::Current(days)
        }
    }

    pub fn describe(self) -> String {
        match self {
            RenewalState::Overdue(1) => "overdue by 1 day".into(),
            RenewalState::Overdue(d) => format!("overdue by {d} days"),
            RenewalState::DueSoon(0) => "due today".into(),
            RenewalState::DueSoon(1) => "due tomorrow".into(),
            RenewalState::DueSoon(d) => format!("due in {d} days"),
            RenewalState::Current(d) => format!("in {d} days"),
        }
    }

    pub fn needs_attention(self) -> bool {
        !matches!(self, RenewalState::Current(_))
    }
}

/// A named person with contact details.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub name: String,
    pub email: String,
    pub phone: String,
}

/// Who is accountable for cyber security in a member organisation.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Governance {
    /// The named senior officer responsible for cyber security (e.g. SIRO).
    pub senior_officer: Contact,
    /// The lead member (councillor) responsible for cyber security.
    pub lead_member: Contact,
}

/// A validated description of an organisation, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrganisationDraft {
    pub name: String,
    pub council_type: CouncilType,
    pub employers_member: bool,
    pub status: MembershipStatus,
    pub renewal_date: NaiveDate,
    pub governance: Governance,
}

/// Raw, untrusted organisation input as it arrives from a form, API body or CLI.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default)]
pub struct OrganisationInput {
    pub name: String,
    pub council_type: String,
    pub employers_member: bool,
    pub status: String,
    pub renewal_date: String,
    pub senior_officer_name: String,
    pub senior_officer_email: String,
    pub senior_officer_phone: String,
    pub lead_member_name: String,
    pub lead_member_email: String,
    pub lead_member_phone: String,
}

impl OrganisationInput {
    /// Check every field and return a draft, or every problem found.
    pub fn validate(&self) -> Result<OrganisationDraft, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let name = validation::text(&mut errors, "name", &self.name, 2, 200);
        let council_type = match self.council_type.parse::<CouncilType>() {
            Ok(t) => Some(t),
            Err(e) => {
                errors.add("council_type", e.to_string());
                None
            }
        };
        let status = if self.status.trim().is_empty() {
            Some(MembershipStatus::Active)
        } else {
            match self.status.parse::<MembershipStatus>() {
                Ok(s) => Some(s),
                Err(e) => {
                    errors.add("status", e.to_string());
                    None
                }
            }
        };
        let renewal_date = match NaiveDate::parse_from_str(self.renewal_date.trim(), "%Y-%m-%d") {
            Ok(d) => Some(d),
            Err(_) => {
                errors.add("renewal_date", "must be a date written YYYY-MM-DD");
                None
            }
        };
        let governance = self.governance_into(&mut errors);
        match (council_type, status, renewal_date) {
            (Some(council_type), Some(status), Some(renewal_date)) if errors.is_empty() => {
                Ok(OrganisationDraft {
                    name,
                    council_type,
                    employers_member: self.employers_member,
                    status,
                    renewal_date,
                    governance,
                })
            }
            _ => Err(errors),
        }
    }
}

impl OrganisationInput {
    /// Check only the governance contacts (what a member lead may change).
    pub fn validate_governance(&self) -> Result<Governance, ValidationErrors> {
        let mut errors = ValidationErrors::new();
        let governance = self.governance_into(&mut errors);
        errors.into_result(governance)
    }

    fn governance_into(&self, errors: &mut ValidationErrors) -> Governance {
        let senior_officer = contact(
            errors,
            [
                "senior_officer_name",
                "senior_officer_email",
                "senior_officer_phone",
            ],
            [
                &self.senior_officer_name,
                &self.senior_officer_email,
                &self.senior_officer_phone,
            ],
        );
        let lead_member = contact(
            errors,
            ["lead_member_name", "lead_member_email", "lead_member_phone"],
            [
                &self.lead_member_name,
                &self.lead_member_email,
                &self.lead_member_phone,
            ],
        );
        Governance {
            senior_officer,
            lead_member,
        }
    }
}

impl From<&OrganisationDraft> for OrganisationInput {
    fn from(d: &OrganisationDraft) -> Self {
        OrganisationInput {
            name: d.name.clone(),
            council_type: d.council_type.as_str().into(),
            employers_member: d.employers_member,
            status: d.status.as_str().into(),
            renewal_date: d.renewal_date.format("%Y-%m-%d").to_string(),
            senior_officer_name: d.governance.senior_officer.name.clone(),
            senior_officer_email: d.governance.senior_officer.email.clone(),
            senior_officer_phone: d.governance.senior_officer.phone.clone(),
            lead_member_name: d.governance.lead_member.name.clone(),
            lead_member_email: d.governance.lead_member.email.clone(),
            lead_member_phone: d.governance.lead_member.phone.clone(),
        }
    }
}

/// Contacts are optional while an organisation joins, but what is given must be valid.
fn contact(errors: &mut ValidationErrors, fields: [&'static str; 3], values: [&str; 3]) -> Contact {
    let name = validation::text(errors, fields[0], values[0], 0, 200);
    let email_raw = values[1].trim();
    let email = if email_raw.is_empty() {
        String::new()
    } else {
        match Email::parse(email_raw) {
            Ok(e) => e.into_string(),
            Err(e) => {
                errors.add(fields[1], e.to_string());
                String::new()
            }
        }
    };
    let phone = validation::text(errors, fields[2], values[2], 0, 40);
    if !phone.is_empty()
        && !phone
            .chars()
            .all(|c| c.is_ascii_digit() || " +()-".contains(c))
    {
        errors.add(fields[2], "may contain only digits, spaces and + ( ) -");
    }
    if name.is_empty() && (!email.is_empty() || !phone.is_empty()) {
        errors.add(fields[0], "is required when contact details are given");
    }
    Contact { name, email, phone }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn default_fees_match_the_published_schedule() {
        let f = FeeSchedule::default();
        assert_eq!(
            f.annual_fee(CouncilType::DistrictBorough, true),
            Pence(50_000)
        );
        assert_eq!(f.annual_fee(CouncilType::Unitary, true), Pence(75_000));
        assert_eq!(f.annual_fee(CouncilType::County, true), Pence(100_000));
        assert_eq!(
            f.annual_fee(CouncilType::DistrictBorough, false),
            Pence(60_000)
        );
        assert_eq!(f.annual_fee(CouncilType::Unitary, false), Pence(90_000));
        assert_eq!(f.annual_fee(CouncilType::County, false), Pence(120_000));
        assert_eq!(
            f.annual_fee(CouncilType::OtherPublicSector, false),
            Pence(60_000)
        );
    }

    #[test]
    fn premium_rounds_half_up_to_the_penny() {
        let f = FeeSchedule {
            district_borough: 333,
            non_employers_premium_percent: 15,
            ..FeeSchedule::default()
        };
        // 333 * 1.15 = 382.95
        assert_eq!(
            f.annual_fee(CouncilType::DistrictBorough, false),
            Pence(38_295)
        );
        let f = FeeSchedule {
            district_borough: 1,
            non_employers_premium_percent: 5,
            ..FeeSchedule::default()
        };
        // 100p * 1.05 = 105p exactly; 1p premium on £0.10 would be 0.5p → 1p
        assert_eq!(
            f.annual_fee(CouncilType::DistrictBorough, false),
            Pence(105)
        );
    }

    #[test]
    fn fee_schedule_rejects_negative_amounts() {
        let f = FeeSchedule {
            county: -1,
            ..FeeSchedule::default()
        };
        let err = f.validate().err();
        assert_eq!(err.map(|e| e.field), Some("county"));
        assert!(FeeSchedule::default().validate().is_ok());
    }

    #[test]
    fn pence_display_groups_thousands() {
        assert_eq!(Pence(50_000).to_string(), "£500");
        assert_eq!(Pence(100_000).to_string(), "£1,000");
        assert_eq!(Pence(1_234_567_890).to_string(), "£12,345,678.90");
        assert_eq!(Pence(5).to_string(), "£0.05");
        assert_eq!(Pence(-12_000).to_string(), "-£120");
    }

    #[test]
    fn council_type_round_trips_and_rejects_unknown() {
        for t in CouncilType::ALL {
            assert_eq!(t.as_str().parse::<CouncilType>(), Ok(t));
        }
        let err = "parish".parse::<CouncilType>().err().map(|e| e.to_string());
        assert_eq!(
            err.as_deref(),
            Some(
                "unknown organisation type 'parish'; expected one of: district_borough, unitary, county, other_public_sector"
            )
        );
    }

    #[test]
    fn renewal_states() {
        let today = date("2026-11-23");
        assert_eq!(
            RenewalState::of(date("2026-11-20"), today),
            RenewalState::Overdue(3)
        );
        assert_eq!(
            RenewalState::of(date("2026-11-23"), today),
            RenewalState::DueSoon(0)
        );
        assert_eq!(
            RenewalState::of(date("2027-01-22"), today),
            RenewalState::DueSoon(60)
        );
        assert_eq!(
            RenewalState::of(date("2027-01-23"), today),
            RenewalState::Current(61)
        );
        assert_eq!(RenewalState::Overdue(1).describe(), "overdue by 1 day");
        assert!(!RenewalState::Current(90).needs_attention());
    }

    fn valid_input() -> OrganisationInput {
        OrganisationInput {
            name: "  Ashford Borough Council ".into(),
            council_type: "district_borough".into(),
            employers_member: true,
            status: "".into(),
            renewal_date: "2027-04-01".into(),
            senior_officer_name: "Jo Bloggs".into(),
            senior_officer_email: "Jo.Bloggs@Ashford.gov.uk".into(),
            senior_officer_phone: "+44 (0)1233 330000".into(),
            ..OrganisationInput::default()
        }
    }

    #[test]
    fn organisation_input_validates_and_normalises() {
        let draft = valid_input().validate();
        let draft = draft.ok();
        assert_eq!(
            draft.as_ref().map(|d| d.name.as_str()),
            Some("Ashford Borough Council")
        );
        assert_eq!(
            draft.as_ref().map(|d| d.status),
            Some(MembershipStatus::Active)
        );
        assert_eq!(
            draft
                .as_ref()
                .map(|d| d.governance.senior_officer.email.as_str()),
            Some("jo.bloggs@ashford.gov.uk")
        );
        let round_trip = draft
            .as_ref()
            .map(|d| OrganisationInput::from(d).validate().ok());
        assert_eq!(round_trip, Some(draft.clone()));
    }

    #[test]
    fn organisation_input_reports_every_bad_field() {
        let input = OrganisationInput {
            name: "x".into(),
            council_type: "parish".into(),
            status: "dormant".into(),
            renewal_date: "01/04/2027".into(),
            lead_member_email: "not-an-email".into(),
            lead_member_phone: "call me".into(),
            ..OrganisationInput::default()
        };
        let errors = input.validate().err().unwrap_or_default();
        for field in [
            "name",
            "council_type",
            "status",
            "renewal_date",
            "lead_member_email",
            "lead_member_phone",
        ] {
            assert!(
                errors.for_field(field).is_some(),
                "{field} should be flagged: {errors}"
            );
        }
    }

    #[test]
    fn billable_and_sign_in_follow_status() {
        assert!(MembershipStatus::Lapsed.allows_sign_in());
        assert!(!MembershipStatus::Suspended.allows_sign_in());
        assert!(!MembershipStatus::Left.is_billable());
    }
}

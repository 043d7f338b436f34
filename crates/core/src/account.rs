//! Named users: their role, e-mail address and password rules.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::membership::UnknownValue;

/// What a user is allowed to do. Closed set; see [`crate::access`] for the rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Runs the WARP: manages every organisation, writes advisories.
    Operator,
    /// Manages the named users of their own organisation.
    MemberLead,
    /// A named user of a member organisation.
    MemberUser,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Operator, Role::MemberLead, Role::MemberUser];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::MemberLead => "member_lead",
            Role::MemberUser => "member_user",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Role::Operator => "WARP operator",
            Role::MemberLead => "Member lead",
            Role::MemberUser => "Member user",
        }
    }

    /// Operators belong to the WARP itself; every other role belongs to one member organisation.
    pub fn belongs_to_member(self) -> bool {
        !matches!(self, Role::Operator)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Role {
    type Err = UnknownValue;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s.trim())
            .ok_or_else(|| UnknownValue {
                kind: "role",
                value: s.to_string(),
                expected: "operator, member_lead, member_user",
            })
    }
}

/// Why an e-mail address was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EmailError {
    #[error("is required")]
    Empty,
    #[error("must be at most 254 characters")]
    TooLong,
    #[error("must look like name@example.gov.uk")]
    Malformed,
}

/// A syntactically plausible e-mail address, trimmed and lower-cased so it can
/// be used as a unique sign-in name. (Deliverability is proven by invitation.)
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    pub fn parse(raw: &str) -> Result<Email, EmailError> {
        let s = raw.trim().to_lowercase();
        if s.is_empty() {
            return Err(EmailError::Empty);
        }
        if s.len() > 254 {
            return Err(EmailError::TooLong);
        }
        let (local, domain) = s.rsplit_once('@').ok_or(EmailError::Malformed)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.contains('@')
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+-/=?^_`{|}~.".contains(c))
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..");
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            });
        if local_ok && domain_ok {
            Ok(Email(s))
        } else {
            Err(EmailError::Malformed)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Why a new password was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PasswordError {
    #[error("must be at least {min} characters (a few unrelated words make a good one)", min = Password::MIN_CHARS)]
    TooShort,
    #[error("must be at most {max} characters", max = Password::MAX_CHARS)]
    TooLong,
    #[error("must not be your e-mail address")]
    SameAsEmail,
    #[error("is too easy to guess; pick something less predictable")]
    TooSimple,
}

/// A new password that meets the policy (NCSC guidance: length over complexity,
/// no forced composition rules, block the obviously guessable).
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

const GUESSABLE: &[&str] = &[
    "password", "passw0rd", "qwerty", "letmein", "welcome", "123456", "abc123", "iloveyou",
    "admin", "changeme", "council",
];

impl Password {
    pub const MIN_CHARS: usize = 12;
    pub const MAX_CHARS: usize = 256;

    pub fn new(raw: &str, email: &Email) -> Result<Password, PasswordError> {
        let len = raw.chars().count();
        if len < Self::MIN_CHARS {
            return Err(PasswordError::TooShort);
        }
        if len > Self::MAX_CHARS {
            return Err(PasswordError::TooLong);
        }
        let lower = raw.to_lowercase();
        if lower == email.as_str() || lower == email.as_str().split('@').next().unwrap_or("") {
            return Err(PasswordError::SameAsEmail);
        }
        let distinct: std::collections::HashSet<char> = lower.chars().collect();
        let stripped: String = lower.chars().filter(|c| c.is_alphabetic()).collect();
        if distinct.len() < 4
            || GUESSABLE.iter().any(|g| {
                lower.trim_end_matches(|c: char| c.is_ascii_digit() || c == '!') == *g
                    || stripped == *g
            })
        {
            return Err(PasswordError::TooSimple);
        }
        Ok(Password(raw.to_string()))
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

/// A person's display name: trimmed, 1–120 characters, no control characters.
pub fn display_name(raw: &str) -> Result<String, &'static str> {
    let s = raw.trim();
    if s.is_empty() {
        Err("is required")
    } else if s.chars().count() > 120 {
        Err("must be at most 120 characters")
    } else if s.chars().any(char::is_control) {
        Err("must not contain control characters")
    } else {
        Ok(s.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        let e = Email::parse("  Jane.Doe@Kent.GOV.uk ").ok();
        assert_eq!(
            e.map(Email::into_string).as_deref(),
            Some("jane.doe@kent.gov.uk")
        );
    }

    #[test]
    fn bad_emails_are_refused() {
        for bad in [
            "",
            "jane",
            "jane@",
            "@kent.gov.uk",
            "jane@kent",
            "ja ne@kent.gov.uk",
            "jane@kent..gov.uk",
            "jane@-kent.gov.uk",
            ".jane@kent.gov.uk",
            "a@b@kent.gov.uk",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} accepted");
        }
        assert_eq!(Email::parse(""), Err(EmailError::Empty));
    }

    #[test]
    fn password_policy() {
        let email = Email::parse("jane@kent.gov.uk").unwrap_or_else(|_| Email(String::new()));
        assert_eq!(Password::new("short", &email), Err(PasswordError::TooShort));
        assert_eq!(
            Password::new("jane@kent.gov.uk", &email),
            Err(PasswordError::SameAsEmail)
        );
        assert_eq!(
            Password::new("aaaaaaaaaaaaaa", &email),
            Err(PasswordError::TooSimple)
        );
        assert_eq!(
            Password::new("password123456", &email),
            Err(PasswordError::TooSimple)
        );
        assert!(Password::new("correct horse battery staple", &email).is_ok());
        assert_eq!(
            format!(
                "{:?}",
                Password::new("correct horse battery staple", &email)
            ),
            "Ok(Password(<redacted>))"
        );
    }

    #[test]
    fn roles_round_trip() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>(), Ok(r));
        }
        assert!("admin".parse::<Role>().is_err());
        assert!(!Role::Operator.belongs_to_member());
    }

    #[test]
    fn display_names() {
        assert_eq!(display_name("  Jane Doe "), Ok("Jane Doe".to_string()));
        assert!(display_name(" ").is_err());
        assert!(display_name(&"x".repeat(121)).is_err());
    }
}

//! Where a member stands on an exposure.

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExposureStatus {
    /// Nobody has looked yet.
    New,
    Assessing,
    ActionInProgress,
    Mitigated,
    /// The member checked and is not affected (e.g. the feature is disabled).
    NotAffected,
    /// The member accepts the risk, with a reason in the notes.
    RiskAccepted,
}

impl ExposureStatus {
    pub const ALL: [ExposureStatus; 6] = [
        ExposureStatus::New,
        ExposureStatus::Assessing,
        ExposureStatus::ActionInProgress,
        ExposureStatus::Mitigated,
        ExposureStatus::NotAffected,
        ExposureStatus::RiskAccepted,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ExposureStatus::New => "new",
            ExposureStatus::Assessing => "assessing",
            ExposureStatus::ActionInProgress => "action_in_progress",
            ExposureStatus::Mitigated => "mitigated",
            ExposureStatus::NotAffected => "not_affected",
            ExposureStatus::RiskAccepted => "risk_accepted",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            ExposureStatus::New => "New",
            ExposureStatus::Assessing => "Assessing",
            ExposureStatus::ActionInProgress => "Action in progress",
            ExposureStatus::Mitigated => "Mitigated",
            ExposureStatus::NotAffected => "Not affected",
            ExposureStatus::RiskAccepted => "Risk accepted",
        }
    }

    pub fn parse(s: &str) -> Option<ExposureStatus> {
        ExposureStatus::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim())
    }

    /// Whether the exposure still wants work (new, assessing, in progress).
    pub fn is_open(self) -> bool {
        matches!(
            self,
            ExposureStatus::New | ExposureStatus::Assessing | ExposureStatus::ActionInProgress
        )
    }
}

impl fmt::Display for ExposureStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_round_trip() {
        for s in ExposureStatus::ALL {
            assert_eq!(ExposureStatus::parse(s.as_str()), Some(s));
        }
        assert_eq!(ExposureStatus::parse("done"), None);
        assert!(ExposureStatus::New.is_open());
        assert!(!ExposureStatus::RiskAccepted.is_open());
    }
}

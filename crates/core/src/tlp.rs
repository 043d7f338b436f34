//! The Traffic Light Protocol, version 2.0 (FIRST): the label on every piece
//! of information openwarp passes on, saying how far the recipient may share it.
//!
//! - `TLP:RED` — for the eyes and ears of the named recipients only.
//! - `TLP:AMBER+STRICT` — within the recipient's organisation only.
//! - `TLP:AMBER` — within the recipient's organisation and its clients, on a
//!   need-to-know basis.
//! - `TLP:GREEN` — within the community (here: the WARP's members and peers),
//!   not publicly.
//! - `TLP:CLEAR` — no limit on disclosure.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A TLP 2.0 label, ordered from least to most restrictive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TlpLabel {
    Clear,
    Green,
    Amber,
    AmberStrict,
    Red,
}

impl TlpLabel {
    pub const ALL: [TlpLabel; 5] = [
        TlpLabel::Clear,
        TlpLabel::Green,
        TlpLabel::Amber,
        TlpLabel::AmberStrict,
        TlpLabel::Red,
    ];

    /// The stored form (`clear`, `green`, `amber`, `amber_strict`, `red`).
    pub fn as_str(self) -> &'static str {
        match self {
            TlpLabel::Clear => "clear",
            TlpLabel::Green => "green",
            TlpLabel::Amber => "amber",
            TlpLabel::AmberStrict => "amber_strict",
            TlpLabel::Red => "red",
        }
    }

    /// The label as TLP 2.0 writes it: `TLP:AMBER+STRICT`.
    pub fn label(self) -> &'static str {
        match self {
            TlpLabel::Clear => "TLP:CLEAR",
            TlpLabel::Green => "TLP:GREEN",
            TlpLabel::Amber => "TLP:AMBER",
            TlpLabel::AmberStrict => "TLP:AMBER+STRICT",
            TlpLabel::Red => "TLP:RED",
        }
    }

    /// What the recipient may do with it, in one sentence.
    pub fn meaning(self) -> &'static str {
        match self {
            TlpLabel::Clear => "Recipients may share this without limit.",
            TlpLabel::Green => {
                "Recipients may share this within the WARP community, but not publicly."
            }
            TlpLabel::Amber => {
                "Recipients may share this within their organisation and with those who need to know to protect it."
            }
            TlpLabel::AmberStrict => "Recipients may share this within their organisation only.",
            TlpLabel::Red => "For the named recipients only; do not share it further.",
        }
    }

    /// Accepts the stored form and the written label, any case
    /// (`amber_strict`, `TLP:AMBER+STRICT`, `amber+strict`, `white` as the
    /// TLP 1.0 name for CLEAR).
    pub fn parse(s: &str) -> Option<TlpLabel> {
        let t = s.trim().to_ascii_lowercase();
        let t = t.strip_prefix("tlp:").unwrap_or(&t);
        match t {
            "clear" | "white" => Some(TlpLabel::Clear),
            "green" => Some(TlpLabel::Green),
            "amber" => Some(TlpLabel::Amber),
            "amber_strict" | "amber+strict" => Some(TlpLabel::AmberStrict),
            "red" => Some(TlpLabel::Red),
            _ => None,
        }
    }
}

impl fmt::Display for TlpLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_label_round_trips_through_both_forms() {
        for l in TlpLabel::ALL {
            assert_eq!(TlpLabel::parse(l.as_str()), Some(l));
            assert_eq!(TlpLabel::parse(l.label()), Some(l));
        }
        assert_eq!(TlpLabel::parse(" tlp:white "), Some(TlpLabel::Clear));
        assert_eq!(TlpLabel::parse("amber strict"), None);
        assert_eq!(TlpLabel::parse(""), None);
    }

    #[test]
    fn labels_order_from_open_to_restricted() {
        assert!(TlpLabel::Clear < TlpLabel::Green);
        assert!(TlpLabel::Amber < TlpLabel::AmberStrict);
        assert!(TlpLabel::AmberStrict < TlpLabel::Red);
    }
}

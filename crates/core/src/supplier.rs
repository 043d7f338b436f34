//! Suppliers and shared services a member depends on: an outsourced IT
//! provider, a shared service partnership, a software vendor, a host. Kept as
//! a first-class list so that when one supplier is hit, every member that
//! shares it can be warned at once.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupplierKind {
    ItProvider,
    SharedService,
    SoftwareVendor,
    Hosting,
    Other,
}

impl SupplierKind {
    pub const ALL: [SupplierKind; 5] = [
        SupplierKind::ItProvider,
        SupplierKind::SharedService,
        SupplierKind::SoftwareVendor,
        SupplierKind::Hosting,
        SupplierKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SupplierKind::ItProvider => "it_provider",
            SupplierKind::SharedService => "shared_service",
            SupplierKind::SoftwareVendor => "software_vendor",
            SupplierKind::Hosting => "hosting",
            SupplierKind::Other => "other",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            SupplierKind::ItProvider => "Outsourced IT provider",
            SupplierKind::SharedService => "Shared service partnership",
            SupplierKind::SoftwareVendor => "Software vendor",
            SupplierKind::Hosting => "Hosting or cloud provider",
            SupplierKind::Other => "Other supplier",
        }
    }
}

impl fmt::Display for SupplierKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for SupplierKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        SupplierKind::ALL
            .into_iter()
            .find(|k| k.as_str() == s.trim())
            .ok_or_else(|| {
                format!(
                    "'{s}' is not a supplier kind; use one of: {}",
                    SupplierKind::ALL.map(|k| k.as_str()).join(", ")
                )
            })
    }
}

/// A supplier as a member gives it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupplierDraft {
    pub name: String,
    pub kind: SupplierKind,
    /// What they provide ("Revenues and benefits system, hosted").
    #[serde(default)]
    pub services: Option<String>,
    /// Who to call there.
    #[serde(default)]
    pub contact: Option<String>,
    #[serde(default)]
    pub notes: Option<String>,
}

/// Which field is wrong, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct SupplierProblem {
    pub field: &'static str,
    pub message: String,
}

fn tidy(
    field: &'static str,
    v: Option<String>,
    max: usize,
) -> Result<Option<String>, SupplierProblem> {
    let Some(v) = v.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    if v.chars().count() > max {
        return Err(SupplierProblem {
            field,
            message: format!("is longer than {max} characters"),
        });
    }
    Ok(Some(v))
}

impl SupplierDraft {
    pub fn validate(self) -> Result<SupplierDraft, SupplierProblem> {
        let name = tidy("name", Some(self.name), 200)?.ok_or(SupplierProblem {
            field: "name",
            message: "is required".into(),
        })?;
        Ok(SupplierDraft {
            name,
            kind: self.kind,
            services: tidy("services", self.services, 1000)?,
            contact: tidy("contact", self.contact, 200)?,
            notes: tidy("notes", self.notes, 4000)?,
        })
    }
}

/// The key under which suppliers are compared across members: lower case,
/// letters and digits only, with legal suffixes dropped, so "Agilisys Ltd",
/// "AGILISYS LIMITED" and "Agilisys" are one supplier.
pub fn supplier_key(name: &str) -> String {
    let words: Vec<String> = name
        .split(|c: char| !c.is_alphanumeric() && c != '&')
        .filter(|w| !w.is_empty())
        .map(|w| w.to_lowercase())
        .collect();
    let suffixes = ["ltd", "limited", "plc", "llp", "inc", "uk", "group", "the"];
    let kept: Vec<&str> = words
        .iter()
        .map(String::as_str)
        .filter(|w| !suffixes.contains(w))
        .collect();
    let kept = if kept.is_empty() {
        words.iter().map(String::as_str).collect()
    } else {
        kept
    };
    kept.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_ignore_case_punctuation_and_legal_suffixes() {
        assert_eq!(supplier_key("Agilisys Ltd"), "agilisys");
        assert_eq!(supplier_key("AGILISYS LIMITED"), "agilisys");
        assert_eq!(supplier_key(" agilisys "), "agilisys");
        assert_eq!(supplier_key("Civica UK Limited"), "civica");
        assert_eq!(supplier_key("Ltd"), "ltd");
        assert_ne!(supplier_key("Capita"), supplier_key("Civica"));
    }

    #[test]
    fn drafts_are_checked() {
        let d = SupplierDraft {
            name: "  ".into(),
            kind: SupplierKind::ItProvider,
            services: None,
            contact: None,
            notes: None,
        };
        assert_eq!(d.validate().map_err(|e| e.field), Err("name"));
        assert_eq!("shared_service".parse(), Ok(SupplierKind::SharedService));
        assert!("vendor".parse::<SupplierKind>().is_err());
    }
}

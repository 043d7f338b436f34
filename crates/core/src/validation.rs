//! Field-level validation errors, collected so a form can show every problem
//! at once and an API client learns which field is at fault.

use serde::Serialize;
use std::fmt;

/// One problem with one input field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name as the form or JSON body spells it.
    pub field: &'static str,
    /// What is wrong and what to do, in plain English.
    pub message: String,
}

/// All problems found in one submission. Empty means valid.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ValidationErrors(pub Vec<FieldError>);

impl ValidationErrors {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(FieldError {
            field,
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The message for `field`, if it has one (used to place errors beside inputs).
    pub fn for_field(&self, field: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.as_str())
    }

    /// `Ok(value)` when no error was recorded, else `Err(self)`.
    pub fn into_result<T>(self, value: T) -> Result<T, ValidationErrors> {
        if self.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{}: {}", e.field, e.message)?;
        }
        Ok(())
    }
}

impl std::error::Error for ValidationErrors {}

/// Trim `value` and check it is between `min` and `max` characters.
pub fn text(
    errors: &mut ValidationErrors,
    field: &'static str,
    value: &str,
    min: usize,
    max: usize,
) -> String {
    let trimmed = value.trim();
    let len = trimmed.chars().count();
    if len < min {
        if min == 1 {
            errors.add(field, "is required");
        } else {
            errors.add(field, format!("must be at least {min} characters"));
        }
    } else if len > max {
        errors.add(field, format!("must be at most {max} characters"));
    } else if trimmed.chars().any(|c| c.is_control()) {
        errors.add(field, "must not contain control characters");
    }
    trimmed.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_trims_and_bounds() {
        let mut e = ValidationErrors::new();
        assert_eq!(text(&mut e, "name", "  Kent  ", 1, 10), "Kent");
        assert!(e.is_empty());
        text(&mut e, "name", "   ", 1, 10);
        assert_eq!(e.for_field("name"), Some("is required"));
        let mut e = ValidationErrors::new();
        text(&mut e, "name", "abcdefghijk", 1, 10);
        assert_eq!(e.for_field("name"), Some("must be at most 10 characters"));
        let mut e = ValidationErrors::new();
        text(&mut e, "name", "a\u{0}b", 1, 10);
        assert!(e.for_field("name").is_some());
    }

    #[test]
    fn display_lists_every_field() {
        let mut e = ValidationErrors::new();
        e.add("a", "x");
        e.add("b", "y");
        assert_eq!(e.to_string(), "a: x; b: y");
        assert_eq!(e.clone().into_result(()), Err(e));
    }
}

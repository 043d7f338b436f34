//! How a failed command is reported and which exit status it gets.
//!
//! Scripts that provision a WARP need to tell "you typed something wrong"
//! (fix the command, exit status 2, same as clap's own usage errors) from
//! "something is broken" (database down, port taken: exit status 1, retry or
//! page someone). Commands return `anyhow::Error`; this module inspects its
//! chain to decide, so no command has to thread exit codes around.

use crate::config::ConfigError;
use openwarp_core::ValidationErrors;
use openwarp_store::StoreError;
use std::fmt;

/// Exit status for input the operator must correct.
pub const BAD_INPUT: u8 = 2;
/// Exit status for every other failure.
pub const FAILURE: u8 = 1;

/// Input that was refused, with one `field: message` line per problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadInput(pub Vec<String>);

impl fmt::Display for BadInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("; "))
    }
}

impl std::error::Error for BadInput {}

/// One refused field, as an error ready to return with `?`.
pub fn bad_input(field: &str, message: impl fmt::Display) -> anyhow::Error {
    anyhow::Error::new(BadInput(vec![format!("{field}: {message}")]))
}

/// Every problem the core found, one line each, named by the core's field names.
pub fn invalid(errors: ValidationErrors) -> anyhow::Error {
    anyhow::Error::new(BadInput(
        errors
            .0
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect(),
    ))
}

/// The lines to print on standard error and the exit status for `err`.
pub fn report(err: &anyhow::Error) -> (Vec<String>, u8) {
    for cause in err.chain() {
        if let Some(bad) = cause.downcast_ref::<BadInput>() {
            return (lines(bad.0.iter()), BAD_INPUT);
        }
        if let Some(StoreError::Conflict(message)) = cause.downcast_ref::<StoreError>() {
            return (lines([message]), BAD_INPUT);
        }
        if let Some(config) = cause.downcast_ref::<ConfigError>() {
            return (lines([config.to_string()]), BAD_INPUT);
        }
    }
    (lines([chain_text(err)]), FAILURE)
}

/// `context: cause: cause…`, leaving out a cause its parent already quoted
/// (store errors embed their sqlx error, which would otherwise print twice).
fn chain_text(err: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if !parts.last().is_some_and(|parent| parent.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}

/// Prefix each message the way clap does, so all errors look alike.
fn lines<S: fmt::Display>(messages: impl IntoIterator<Item = S>) -> Vec<String> {
    messages
        .into_iter()
        .map(|m| format!("error: {m}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn bad_input_exits_2_naming_the_field() {
        let err = bad_input("--email", "must look like name@example.gov.uk");
        let (lines, code) = report(&err.context("adding a user"));
        assert_eq!(code, 2);
        assert_eq!(
            lines,
            vec!["error: --email: must look like name@example.gov.uk"]
        );
    }

    #[test]
    fn validation_errors_list_every_field() {
        let mut errors = ValidationErrors::new();
        errors.add("renewal_date", "must be a date written YYYY-MM-DD");
        errors.add("name", "is required");
        let (lines, code) = report(&invalid(errors));
        assert_eq!(code, 2);
        assert_eq!(
            lines,
            vec![
                "error: renewal_date: must be a date written YYYY-MM-DD",
                "error: name: is required"
            ]
        );
    }

    #[test]
    fn conflicts_exit_2_with_the_store_message() {
        let err = anyhow::Error::new(StoreError::Conflict(
            "an organisation called 'Kent' already exists".into(),
        ))
        .context("creating the organisation");
        let (lines, code) = report(&err);
        assert_eq!(code, 2);
        assert_eq!(
            lines,
            vec!["error: an organisation called 'Kent' already exists"]
        );
    }

    #[test]
    fn causes_quoted_by_their_parent_print_once() {
        let inner = std::io::Error::other("pool timed out");
        let outer = anyhow::Error::new(Wrapper(inner)).context("connecting to the database");
        let (lines, code) = report(&outer);
        assert_eq!(code, 1);
        assert_eq!(
            lines,
            vec!["error: connecting to the database: database error: pool timed out"]
        );
    }

    /// Like `StoreError::Database`: quotes its source in its own message.
    #[derive(Debug)]
    struct Wrapper(std::io::Error);

    impl fmt::Display for Wrapper {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "database error: {}", self.0)
        }
    }

    impl std::error::Error for Wrapper {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn other_failures_exit_1_with_their_context() {
        let err = Err::<(), _>(StoreError::NotFound("user"))
            .context("connecting to the database")
            .expect_err("is an error");
        let (lines, code) = report(&err);
        assert_eq!(code, 1);
        assert_eq!(
            lines,
            vec!["error: connecting to the database: user not found"]
        );
    }
}

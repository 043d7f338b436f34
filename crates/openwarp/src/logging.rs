//! Log set-up: `RUST_LOG` filtering, text or JSON lines, on standard error.
//!
//! Logs go to standard error so that what the admin commands print on
//! standard output (reset links, fees) can be piped or captured cleanly.

use crate::config::LogFormat;
use std::io::IsTerminal;
use tracing_subscriber::EnvFilter;

/// Used when `RUST_LOG` is unset or unparsable: our own events at info, and
/// sqlx's per-query chatter only when something is wrong.
pub const DEFAULT_FILTER: &str = "info,sqlx=warn";

/// Install the global subscriber. A second call (e.g. from a test) is a no-op.
pub fn init(format: LogFormat) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal());
    // Ignoring the result is deliberate: it only fails when a subscriber is
    // already installed, and then logging works anyway.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
}

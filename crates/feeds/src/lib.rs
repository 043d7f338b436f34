//! Bringing advisories in: read files and folders, or poll live feeds,
//! decompress by content (gzip, xz), detect the format by content, parse on a
//! blocking thread and store in batches, each batch one transaction.
//!
//! This is an I/O edge: the parsing and the model live in the pure
//! `openwarp-advisory` crate, storage in `openwarp-store`.

mod fetch;
mod input;
mod pipeline;
mod scheduler;
mod sources;

pub use fetch::{
    FetchError, FetchOptions, Fetcher, NvdOptions, PollOutcome, PollReport, USER_AGENT,
};
pub use input::{InputError, decompress, expand_paths};
pub use pipeline::{FileReport, IngestOptions, Progress, ingest_bytes, ingest_path};
pub use scheduler::{DuePolicy, SchedulerOptions, run_scheduler, run_scheduler_with};
pub use sources::{
    ApiKey, FeedKind, FeedSource, FeedSources, MAX_INTERVAL, MIN_INTERVAL, NVD_API_URL,
    SourceError, SourceErrors, format_interval, parse_interval, validate_sources,
};

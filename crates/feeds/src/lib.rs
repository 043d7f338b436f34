//! Bringing advisories in: read files and folders (and, in time, live feeds),
//! decompress by content (gzip, xz), detect the format by content, parse on a
//! blocking thread and store in batches, each batch one transaction.
//!
//! This is an I/O edge: the parsing and the model live in the pure
//! `openwarp-advisory` crate, storage in `openwarp-store`.

mod input;
mod pipeline;

pub use input::{InputError, decompress, expand_paths};
pub use pipeline::{FileReport, IngestOptions, Progress, ingest_bytes, ingest_path};

//! The ingest pipeline for one file: parse on a blocking thread, store in
//! batches on the async side, with a bounded channel between them so memory
//! stays flat however many records a file holds.

use crate::input::{InputError, decompress};
use openwarp_advisory::parse::{FileMeta, parse_any};
use openwarp_advisory::{EpssRun, EpssScore, Format, Parsed, Rejection, SourceRecord};
use openwarp_store::{IngestCounts, KnownRecords, Store, now};
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, Instant};

/// Tuning for a run.
#[derive(Debug, Clone, Copy)]
pub struct IngestOptions {
    /// Records per transaction.
    pub batch_size: usize,
    /// Keep at most this many rejections per file in the report (all are counted).
    pub max_rejections_kept: usize,
}

impl Default for IngestOptions {
    fn default() -> Self {
        IngestOptions {
            batch_size: 500,
            max_rejections_kept: 1000,
        }
    }
}

/// Hooks for a progress display. All methods have empty defaults.
pub trait Progress: Send + Sync {
    fn file_started(&self, _name: &str, _bytes: u64) {}
    fn records_stored(&self, _n: u64) {}
    fn file_done(&self, _report: &FileReport) {}
}

impl Progress for () {}

/// What happened to one file.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FileReport {
    pub name: String,
    pub format: Option<Format>,
    /// Decompressed size in bytes.
    pub bytes: u64,
    pub counts: IngestCounts,
    pub epss_scores: u64,
    pub rejected_count: u64,
    pub rejected: Vec<Rejection>,
    /// Parts of records that were skipped while the rest was kept.
    pub warning_count: u64,
    pub warnings: Vec<Rejection>,
    /// A file-level failure: nothing from this file was stored (or, when
    /// `storage_failed`, storing stopped part-way at a batch boundary).
    pub error: Option<String>,
    /// The database failed, as opposed to the input being bad.
    pub storage_failed: bool,
    /// The file is not in a format openwarp reads (only when walking folders).
    pub unrecognised: bool,
    #[serde(skip)]
    pub elapsed: Duration,
}

impl FileReport {
    pub fn records(&self) -> u64 {
        self.counts.new + self.counts.changed + self.counts.unchanged
    }
}

enum Batch {
    Records(Vec<SourceRecord>),
    Rejected(Rejection),
    Warning(Rejection),
}

/// Read, decompress and ingest one file.
pub async fn ingest_path(
    store: &Store,
    path: &Path,
    known: &mut KnownRecords,
    options: IngestOptions,
    progress: &dyn Progress,
) -> FileReport {
    let name = path.display().to_string();
    let started = Instant::now();
    let read = {
        let path = path.to_path_buf();
        let name = name.clone();
        tokio::task::spawn_blocking(move || -> Result<Vec<u8>, InputError> {
            let raw = std::fs::read(&path).map_err(|source| InputError::Io {
                path: name.clone(),
                source,
            })?;
            decompress(&name, raw)
        })
        .await
    };
    let bytes = match read {
        Ok(Ok(b)) => b,
        Ok(Err(e)) => return failed(name, e.to_string(), started),
        Err(e) => return failed(name, format!("reading failed: {e}"), started),
    };
    ingest_bytes(store, &name, bytes, known, options, progress).await
}

fn failed(name: String, error: String, started: Instant) -> FileReport {
    FileReport {
        name,
        error: Some(error),
        elapsed: started.elapsed(),
        ..FileReport::default()
    }
}

/// Ingest one decompressed file's bytes; see the module documentation.
pub async fn ingest_bytes(
    store: &Store,
    name: &str,
    bytes: Vec<u8>,
    known: &mut KnownRecords,
    options: IngestOptions,
    progress: &dyn Progress,
) -> FileReport {
    let started = Instant::now();
    let mut report = FileReport {
        name: name.to_string(),
        bytes: bytes.len() as u64,
        format: openwarp_advisory::detect(&bytes),
        ..FileReport::default()
    };
    progress.file_started(name, report.bytes);
    if report.format.is_none() {
        report.unrecognised = true;
        report.error = Some(openwarp_advisory::ParseError::UnknownFormat.to_string());
        report.elapsed = started.elapsed();
        progress.file_done(&report);
        return report;
    }

    let (tx, mut rx) = tokio::sync::mpsc::channel::<Batch>(4);
    let batch_size = options.batch_size.max(1);
    let parser = tokio::task::spawn_blocking(move || {
        let mut batch: Vec<SourceRecord> = Vec::with_capacity(batch_size);
        let mut epss: Vec<EpssScore> = Vec::new();
        let mut sink = |item: Parsed| match item {
            Parsed::Record(r) => {
                batch.push(*r);
                if batch.len() >= batch_size {
                    let full = std::mem::replace(&mut batch, Vec::with_capacity(batch_size));
                    // A closed channel means the store side gave up; keep parsing quietly.
                    let _ = tx.blocking_send(Batch::Records(full));
                }
            }
            Parsed::Epss(s) => epss.push(s),
            Parsed::Rejected(r) => {
                let _ = tx.blocking_send(Batch::Rejected(r));
            }
            Parsed::Warning(r) => {
                let _ = tx.blocking_send(Batch::Warning(r));
            }
        };
        let result = parse_any(&bytes, &mut sink);
        if !batch.is_empty() {
            let _ = tx.blocking_send(Batch::Records(batch));
        }
        result.map(|(format, meta)| (format, meta, epss))
    });

    // Records arrive only after the parser has read the file's outer
    // structure, so a truncated document fails before anything is stored.
    let mut store_error: Option<String> = None;
    while let Some(batch) = rx.recv().await {
        match batch {
            Batch::Records(records) if store_error.is_none() => {
                match store.upsert_records(&records, known, now()).await {
                    Ok(c) => {
                        report.counts += c;
                        progress.records_stored(records.len() as u64);
                    }
                    Err(e) => store_error = Some(format!("storing failed: {e}")),
                }
            }
            Batch::Records(_) => {}
            Batch::Rejected(r) => {
                report.rejected_count += 1;
                if report.rejected.len() < options.max_rejections_kept {
                    report.rejected.push(r);
                }
            }
            Batch::Warning(r) => {
                report.warning_count += 1;
                if report.warnings.len() < options.max_rejections_kept {
                    report.warnings.push(r);
                }
            }
        }
    }
    match parser.await {
        Ok(Ok((format, meta, epss))) => {
            report.format = Some(format);
            if let FileMeta::Epss(run) = &meta
                && store_error.is_none()
            {
                match store_epss(store, &epss, run).await {
                    Ok(n) => report.epss_scores = n,
                    Err(e) => store_error = Some(e),
                }
            }
        }
        Ok(Err(e)) => report.error = Some(e.to_string()),
        Err(e) => report.error = Some(format!("the parser stopped unexpectedly: {e}")),
    }
    if report.error.is_none() && store_error.is_some() {
        report.storage_failed = true;
        report.error = store_error;
    }
    report.elapsed = started.elapsed();
    progress.file_done(&report);
    report
}

async fn store_epss(store: &Store, scores: &[EpssScore], run: &EpssRun) -> Result<u64, String> {
    store
        .upsert_epss(scores, run, now())
        .await
        .map(|_| scores.len() as u64)
        .map_err(|e| format!("storing EPSS scores failed: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use openwarp_store::testing::all_backends;

    const NVD: &str = include_str!(
        "../../advisory/tests/fixtures/nvd/nvd_feed_2015_and_node_and_cvss_v2_v30.json"
    );

    async fn ingest(store: &Store, name: &str, bytes: &[u8]) -> FileReport {
        let mut known = KnownRecords::default();
        ingest_bytes(
            store,
            name,
            bytes.to_vec(),
            &mut known,
            IngestOptions::default(),
            &(),
        )
        .await
    }

    #[tokio::test]
    async fn a_truncated_document_stores_nothing() {
        for db in all_backends().await {
            let cut = &NVD.as_bytes()[..NVD.len() * 3 / 4];
            let report = ingest(&db.store, "cut.json", cut).await;
            assert!(report.error.is_some(), "{}", db.backend().name());
            assert!(!report.storage_failed);
            assert_eq!(report.records(), 0);
            assert!(db.store.advisory_counts().await.expect("counts").is_empty());
        }
    }

    #[tokio::test]
    async fn a_malformed_record_is_rejected_alone() {
        for db in all_backends().await {
            // Break the second record's id (a number where a string belongs).
            let second = NVD.rfind("\"id\" : \"CVE-").expect("two records");
            let mut broken = NVD.to_string();
            let end = second + broken[second..].find(',').expect("comma");
            broken.replace_range(second..end, "\"id\" : 42");
            let report = ingest(&db.store, "broken.json", broken.as_bytes()).await;
            assert_eq!(report.error, None);
            assert_eq!((report.counts.new, report.rejected_count), (1, 1));
            assert!(
                report.rejected[0].reason.contains("id"),
                "{:?}",
                report.rejected
            );
            let again = ingest(&db.store, "whole.json", NVD.as_bytes()).await;
            assert_eq!((again.counts.new, again.counts.unchanged), (1, 1));
        }
    }

    #[tokio::test]
    async fn unknown_formats_say_what_is_supported() {
        let db = openwarp_store::testing::sqlite().await;
        let report = ingest(&db.store, "notes.txt", b"just some notes").await;
        assert!(report.unrecognised);
        assert!(
            report
                .error
                .as_deref()
                .unwrap_or("")
                .contains("supported: NVD CVE API 2.0 JSON")
        );
    }
}

//! `openwarp ingest PATH...`: load advisory files and folders into the
//! database with a progress bar, then report per source what was new,
//! changed, unchanged, older than what is stored, or rejected (each rejection
//! with its record and reason).

use crate::cli::IngestArgs;
use crate::config::Config;
use crate::failure::BadInput;
use crate::serve::open_store;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use openwarp_feeds::{FileReport, IngestOptions, Progress, expand_paths, ingest_path};
use openwarp_store::{IngestCounts, KnownRecords};
use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::time::Instant;

/// A progress bar over the bytes of all input files.
struct Bar(ProgressBar);

impl Progress for Bar {
    fn file_started(&self, name: &str, _bytes: u64) {
        let short = name.rsplit('/').next().unwrap_or(name).to_string();
        self.0.set_message(short);
    }
    fn records_stored(&self, n: u64) {
        self.0.inc(n);
    }
}

/// Totals for one kind of source.
#[derive(Default)]
struct Totals {
    files: u64,
    counts: IngestCounts,
    epss: u64,
    rejected: u64,
    bytes: u64,
}

pub async fn run(config: &Config, args: &IngestArgs) -> anyhow::Result<()> {
    let files = expand_paths(&args.paths).map_err(|e| BadInput(vec![format!("PATH: {e}")]))?;
    let store = open_store(&config.database_url).await?;
    let draw = !args.quiet && std::io::stderr().is_terminal();
    let bar = ProgressBar::with_draw_target(
        None,
        if draw {
            ProgressDrawTarget::stderr()
        } else {
            ProgressDrawTarget::hidden()
        },
    );
    bar.set_style(
        ProgressStyle::with_template("{spinner} {elapsed_precise} {pos} records stored  {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let progress = Bar(bar);
    let options = IngestOptions {
        batch_size: args.batch_size as usize,
        ..IngestOptions::default()
    };
    let explicit: Vec<String> = args
        .paths
        .iter()
        .filter(|p| p.is_file())
        .map(|p| p.display().to_string())
        .collect();
    let started = Instant::now();
    let mut known = KnownRecords::default();
    let mut totals: BTreeMap<&'static str, Totals> = BTreeMap::new();
    let mut skipped: Vec<String> = Vec::new();
    let mut failures: Vec<String> = Vec::new();
    let mut storage_failed = false;
    let mut reports: Vec<FileReport> = Vec::new();
    for file in &files {
        let report = ingest_path(&store, file, &mut known, options, &progress).await;
        if report.unrecognised && !explicit.contains(&report.name) {
            skipped.push(report.name.clone());
            continue;
        }
        if let Some(error) = &report.error {
            failures.push(format!("{}: {error}", report.name));
            storage_failed |= report.storage_failed;
        }
        if let Some(format) = report.format {
            let t = totals.entry(format.label()).or_default();
            t.files += 1;
            t.counts += report.counts;
            t.epss += report.epss_scores;
            t.rejected += report.rejected_count;
            t.bytes += report.bytes;
        }
        reports.push(report);
    }
    progress.0.finish_and_clear();
    let elapsed = started.elapsed();
    println!(
        "{:<16} {:>6} {:>9} {:>9} {:>10} {:>7} {:>9} {:>8}",
        "source", "files", "new", "changed", "unchanged", "older", "rejected", "MB"
    );
    for (label, t) in &totals {
        let new = if t.epss > 0 { t.epss } else { t.counts.new };
        println!(
            "{label:<16} {:>6} {:>9} {:>9} {:>10} {:>7} {:>9} {:>8.1}",
            t.files,
            new,
            t.counts.changed,
            t.counts.unchanged,
            t.counts.stale,
            t.rejected,
            t.bytes as f64 / 1e6
        );
    }
    let records: u64 = totals
        .values()
        .map(|t| t.counts.new + t.counts.changed + t.counts.unchanged + t.counts.stale + t.epss)
        .sum();
    let mb: f64 = totals.values().map(|t| t.bytes as f64).sum::<f64>() / 1e6;
    let secs = elapsed.as_secs_f64().max(1e-9);
    println!(
        "{records} records from {} files in {secs:.1} s ({:.0} records/s, {:.1} MB/s)",
        reports.len(),
        records as f64 / secs,
        mb / secs
    );
    for r in reports.iter().filter(|r| r.warning_count > 0) {
        println!(
            "\nkept with parts skipped in {} ({}):",
            r.name, r.warning_count
        );
        for w in &r.warnings {
            println!("  {w}");
        }
    }
    for r in reports.iter().filter(|r| r.rejected_count > 0) {
        println!("\nrejected in {} ({}):", r.name, r.rejected_count);
        for rej in &r.rejected {
            println!("  {rej}");
        }
        if r.rejected_count > r.rejected.len() as u64 {
            println!(
                "  … and {} more",
                r.rejected_count - r.rejected.len() as u64
            );
        }
    }
    if !skipped.is_empty() {
        println!("\nskipped {} files that are not advisories:", skipped.len());
        for s in &skipped {
            println!("  {s}");
        }
    }
    store.close().await;
    if failures.is_empty() {
        Ok(())
    } else if storage_failed {
        anyhow::bail!("{}", failures.join("; "))
    } else {
        // A file we could not read at all: the operator must fix the input.
        Err(anyhow::Error::new(BadInput(failures)))
    }
}

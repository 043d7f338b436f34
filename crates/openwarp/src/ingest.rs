//! `openwarp ingest PATH...`: load advisory files and folders into the
//! database with a progress bar, then report per source what was new,
//! changed, unchanged, older than what is stored, or rejected (each rejection
//! with its record and reason).

use crate::cli::IngestArgs;
use crate::config::Config;
use crate::failure::BadInput;
use crate::serve::open_configured;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use openwarp_feeds::{
    FeedKind, FeedSource, FetchOptions, Fetcher, FileReport, IngestOptions, Progress, expand_paths,
    ingest_path,
};
use openwarp_store::{IngestCounts, KnownRecords, Store};
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

fn is_url(p: &std::path::Path) -> bool {
    p.to_str()
        .is_some_and(|s| s.starts_with("http://") || s.starts_with("https://"))
}

/// A stable source name for an ad-hoc URL, so fetching it again sends the
/// stored ETag and re-downloads only when it changed.
fn adhoc_source(url: &str) -> FeedSource {
    // FNV-1a: stable across runs and platforms, unlike the std hasher.
    let hash = url.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    FeedSource {
        name: format!("cli-{hash:016x}"),
        kind: FeedKind::File,
        url: url.to_string(),
        interval: std::time::Duration::from_secs(24 * 3600),
        api_key: None,
    }
}

/// Fetch each URL once and ingest it; returns failures as messages.
async fn ingest_urls(store: &Store, urls: &[String]) -> anyhow::Result<Vec<String>> {
    if urls.is_empty() {
        return Ok(Vec::new());
    }
    let sources: Vec<FeedSource> = urls.iter().map(|u| adhoc_source(u)).collect();
    openwarp_feeds::validate_sources(&sources).map_err(|e| BadInput(vec![format!("URL: {e}")]))?;
    let fetcher = Fetcher::new(store.clone(), FetchOptions::default())?;
    let mut failures = Vec::new();
    for source in &sources {
        match fetcher.poll(source).await {
            Ok(r) => println!(
                "{}: {:?}, {} new, {} changed, {} unchanged, {} older, {} rejected, {} EPSS scores ({} bytes, {} requests)",
                source.url,
                r.outcome,
                r.counts.new,
                r.counts.changed,
                r.counts.unchanged,
                r.counts.stale,
                r.counts.rejected,
                r.counts.epss_scores,
                r.bytes,
                r.requests
            ),
            Err(e) => {
                let text = e.to_string();
                failures.push(if text.contains(&source.url) {
                    text
                } else {
                    format!("{}: {text}", source.url)
                });
            }
        }
    }
    Ok(failures)
}

pub async fn run(config: &Config, args: &IngestArgs) -> anyhow::Result<()> {
    let (url_args, path_args): (Vec<_>, Vec<_>) =
        args.paths.iter().cloned().partition(|p| is_url(p));
    let urls: Vec<String> = url_args.iter().map(|p| p.display().to_string()).collect();
    let files = expand_paths(&path_args).map_err(|e| BadInput(vec![format!("PATH: {e}")]))?;
    let mut store = open_configured(config).await?;
    if args.baseline {
        store = store.without_alerts();
    }
    let url_failures = ingest_urls(&store, &urls).await?;
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
    // A download that failed is not something the operator typed wrong.
    let download_failed = !url_failures.is_empty();
    failures.extend(url_failures);
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
    if !reports.is_empty() {
        print_totals(&totals, reports.len(), elapsed);
    }
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
    } else if storage_failed || download_failed {
        anyhow::bail!("{}", failures.join("; "))
    } else {
        // A file we could not read at all: the operator must fix the input.
        Err(anyhow::Error::new(BadInput(failures)))
    }
}

/// The per-source table and the overall throughput line.
fn print_totals(
    totals: &BTreeMap<&'static str, Totals>,
    files: usize,
    elapsed: std::time::Duration,
) {
    println!(
        "{:<16} {:>6} {:>9} {:>9} {:>10} {:>7} {:>9} {:>8}",
        "source", "files", "new", "changed", "unchanged", "older", "rejected", "MB"
    );
    for (label, t) in totals {
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
        files,
        records as f64 / secs,
        mb / secs
    );
}

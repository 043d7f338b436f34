//! `openwarp bench-parse PATH...`: how fast the parsers read the real
//! corpora, compared with the floor of parsing the same bytes into a generic
//! `serde_json::Value`. Nothing is stored; the numbers go in docs/benchmarks.md.

use crate::cli::BenchParseArgs;
use crate::failure::BadInput;
use openwarp_advisory::parse::parse_any;
use openwarp_advisory::{Format, Parsed};
use openwarp_feeds::{decompress, expand_paths};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

#[derive(Default)]
struct Row {
    files: usize,
    bytes: u64,
    records: u64,
    rejected: u64,
    ours: Duration,
    baseline: Duration,
}

/// Parse every line (JSON Lines), every row (CSV: no baseline) or the whole
/// document into `Value`: what a generic JSON reader must do at least.
fn baseline(format: Format, bytes: &[u8]) -> bool {
    match format {
        Format::Epss => false,
        Format::Cve5Lines | Format::CsafLines | Format::OsvLines => {
            for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let _ = std::hint::black_box(serde_json::from_slice::<serde_json::Value>(line));
            }
            true
        }
        _ => {
            let _ = std::hint::black_box(serde_json::from_slice::<serde_json::Value>(bytes));
            true
        }
    }
}

fn fastest(repeat: u32, mut f: impl FnMut()) -> Duration {
    (0..repeat)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

pub fn parse(args: &BenchParseArgs) -> anyhow::Result<()> {
    let files = expand_paths(&args.paths).map_err(|e| BadInput(vec![format!("PATH: {e}")]))?;
    let mut rows: BTreeMap<&'static str, Row> = BTreeMap::new();
    for file in files {
        let name = file.display().to_string();
        let raw = std::fs::read(&file)?;
        let Ok(bytes) = decompress(&name, raw) else {
            continue;
        };
        let Some(format) = openwarp_advisory::detect(&bytes) else {
            continue;
        };
        let mut records = 0u64;
        let mut rejected = 0u64;
        let ours = fastest(args.repeat, || {
            records = 0;
            rejected = 0;
            let _ = parse_any(&bytes, &mut |p| match p {
                Parsed::Record(r) => {
                    std::hint::black_box(r);
                    records += 1;
                }
                Parsed::Epss(s) => {
                    std::hint::black_box(s);
                    records += 1;
                }
                Parsed::Rejected(_) => rejected += 1,
                Parsed::Warning(_) => {}
            });
        });
        let mut has_baseline = true;
        let base = fastest(args.repeat, || has_baseline = baseline(format, &bytes));
        let row = rows.entry(format.label()).or_default();
        row.files += 1;
        row.bytes += bytes.len() as u64;
        row.records += records;
        row.rejected += rejected;
        row.ours += ours;
        if has_baseline {
            row.baseline += base;
        }
    }
    println!(
        "{:<16} {:>6} {:>9} {:>9} {:>9} {:>11} {:>9} {:>10}",
        "format", "files", "records", "rejected", "MB", "records/s", "MB/s", "vs Value"
    );
    for (label, r) in &rows {
        let secs = r.ours.as_secs_f64().max(1e-9);
        let ratio = if r.baseline.is_zero() {
            "n/a".to_string()
        } else {
            format!("{:.2}x", secs / r.baseline.as_secs_f64())
        };
        println!(
            "{label:<16} {:>6} {:>9} {:>9} {:>9.1} {:>11.0} {:>9.1} {:>10}",
            r.files,
            r.records,
            r.rejected,
            r.bytes as f64 / 1e6,
            r.records as f64 / secs,
            r.bytes as f64 / 1e6 / secs,
            ratio
        );
    }
    Ok(())
}

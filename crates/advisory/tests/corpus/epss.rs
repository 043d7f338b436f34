//! The EPSS parser over one complete daily file.

use crate::support;
use openwarp_advisory::epss;
use openwarp_advisory::model::{EpssScore, Parsed};
use std::time::Instant;

#[test]
fn epss_daily_scores() {
    let Some(dir) = support::corpus_dir() else {
        return;
    };
    let path = dir.join("epss/epss_scores-2026-01-30.csv.gz");
    let bytes = support::read(&path);
    let mut scores: Vec<EpssScore> = Vec::with_capacity(320_000);
    let mut rejected = Vec::new();
    let start = Instant::now();
    let run = epss::parse(&bytes, &mut |p| match p {
        Parsed::Epss(s) => scores.push(s),
        Parsed::Warning(w) => panic!("unexpected warning: {w}"),
        Parsed::Rejected(r) => rejected.push(r.to_string()),
        Parsed::Record(_) => panic!("record from EPSS"),
    })
    .unwrap();
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "epss {}: {} scores, {} rejected, {} bytes in {secs:.3}s ({:.0} MB/s, {:.2}M rows/s)",
        path.file_name().unwrap().to_string_lossy(),
        scores.len(),
        rejected.len(),
        bytes.len(),
        bytes.len() as f64 / secs / 1e6,
        scores.len() as f64 / secs / 1e6,
    );
    assert!(rejected.is_empty(), "{rejected:#?}");
    assert_eq!(run.model_version.as_deref(), Some("v2025.03.14"));
    assert_eq!(
        run.score_date.map(|t| t.to_rfc3339()).as_deref(),
        Some("2026-01-30T12:55:00+00:00")
    );
    assert_eq!(scores.len(), 313_089);
    assert_eq!(
        scores.first().map(|s| s.cve_id.as_str()),
        Some("CVE-1999-0001")
    );
    assert_eq!(
        scores.last().map(|s| s.cve_id.as_str()),
        Some("CVE-2026-25211")
    );
    assert!(
        scores
            .iter()
            .all(|s| (0.0..=1.0).contains(&s.score) && (0.0..=1.0).contains(&s.percentile))
    );
    let high = scores.iter().filter(|s| s.score >= 0.5).count();
    eprintln!("epss: {high} CVEs scored 0.5 or more");
}

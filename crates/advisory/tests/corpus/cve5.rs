//! The CVE JSON 5 parser over the Vulnrichment bulk set (JSON Lines) and the
//! byte-exact single record files.

use crate::support;
use openwarp_advisory::{Affected, Parsed, RecordState, SourceRecord, cve5};
use std::path::Path;
use std::time::Instant;

#[derive(Default)]
struct Counts {
    published: usize,
    rejected: usize,
    rejected_with_reason: usize,
    with_adp_affected: usize,
    cna_affected: usize,
    adp_affected: usize,
    cvss: usize,
    stated_differs: usize,
    rejections: Vec<String>,
}

impl Counts {
    fn add(&mut self, p: Parsed) -> Option<Box<SourceRecord>> {
        match p {
            Parsed::Record(r) => {
                match &r.state {
                    RecordState::Published => self.published += 1,
                    RecordState::Rejected { reason } => {
                        self.rejected += 1;
                        self.rejected_with_reason += usize::from(reason.is_some());
                    }
                    RecordState::Withdrawn { .. } => panic!("CVE 5 has no withdrawn state"),
                }
                self.cvss += r.cvss.len();
                self.stated_differs += r.cvss.iter().filter(|s| s.stated_score.is_some()).count();
                let mut adp = false;
                for a in &r.affected {
                    if let Affected::Cve5(a) = a {
                        if a.container == "cna" {
                            self.cna_affected += 1;
                        } else {
                            self.adp_affected += 1;
                            adp = true;
                        }
                    }
                }
                self.with_adp_affected += usize::from(adp);
                Some(r)
            }
            Parsed::Rejected(r) => {
                self.rejections.push(r.to_string());
                None
            }
            Parsed::Epss(_) => panic!("CVE 5 yields no EPSS"),
            Parsed::Warning(w) => panic!("unexpected warning: {w}"),
        }
    }
}

#[test]
fn cve5_vulnrichment_lines() {
    let Some(dir) = support::corpus_dir() else {
        return;
    };
    let bytes = support::read(&dir.join("cve5/vulnrichment-cve5.jsonl.xz"));
    let mut c = Counts::default();
    let start = Instant::now();
    cve5::parse_lines(&bytes, &mut |p| {
        c.add(p);
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let secs = start.elapsed().as_secs_f64();

    // The same bytes into serde_json::Value trees, line by line, for comparison.
    let start = Instant::now();
    let mut values = 0usize;
    for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let v: serde_json::Value = serde_json::from_slice(line).unwrap();
        values += usize::from(v.is_object());
    }
    let value_secs = start.elapsed().as_secs_f64();
    let records = c.published + c.rejected;
    eprintln!(
        "cve5 vulnrichment-cve5.jsonl.xz: {records} records ({} PUBLISHED, {} REJECTED, {} with a reason), {} CNA + {} ADP affected entries, {} records with ADP affected, {} CVSS ({} stated score differs), {} rejections; {:.1} MB in {:.2} s = {:.0} MB/s, {:.0} records/s; serde_json::Value alone {:.2} s (ratio {:.2})",
        c.published,
        c.rejected,
        c.rejected_with_reason,
        c.cna_affected,
        c.adp_affected,
        c.with_adp_affected,
        c.cvss,
        c.stated_differs,
        c.rejections.len(),
        bytes.len() as f64 / 1e6,
        secs,
        bytes.len() as f64 / 1e6 / secs,
        records as f64 / secs,
        value_secs,
        secs / value_secs
    );
    assert!(c.rejections.is_empty(), "{:#?}", c.rejections);
    assert_eq!(values, 44_130);
    assert_eq!(records, 44_130);
    assert_eq!(c.published, 44_026);
    assert_eq!(c.rejected, 104);
    assert_eq!(c.rejected_with_reason, 104);
    // SOURCE.md: 16,782 records have an ADP `affected` block.
    assert_eq!(c.with_adp_affected, 16_782);
    assert_eq!(c.cna_affected, 84_435);
    assert_eq!(c.adp_affected, 54_994);
}

fn single_files(dir: &Path, expected: usize) {
    let files = support::files(dir, ".json");
    assert_eq!(files.len(), expected, "{}", dir.display());
    let mut c = Counts::default();
    let start = Instant::now();
    for path in &files {
        let bytes = support::read(path);
        let mut ids = Vec::new();
        cve5::parse(&bytes, &mut |p| {
            if let Some(r) = c.add(p) {
                ids.push(r.record_id.clone());
            }
        })
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        assert_eq!(ids, vec![stem.to_string()], "{}", path.display());
    }
    eprintln!(
        "cve5 {}: {} files, {} PUBLISHED, {} REJECTED, {} CNA + {} ADP affected, {} CVSS ({} stated score differs), {} rejections in {:.0} ms",
        dir.file_name().and_then(|n| n.to_str()).unwrap_or_default(),
        files.len(),
        c.published,
        c.rejected,
        c.cna_affected,
        c.adp_affected,
        c.cvss,
        c.stated_differs,
        c.rejections.len(),
        start.elapsed().as_secs_f64() * 1e3
    );
    assert!(c.rejections.is_empty(), "{:#?}", c.rejections);
    assert_eq!(c.published, expected);
}

#[test]
fn cve5_single_record_files() {
    let Some(dir) = support::corpus_dir() else {
        return;
    };
    single_files(&dir.join("cve5/vulnrichment-samples"), 21);
    single_files(&dir.join("cve5/osv-dev-testdata-cvelistV5"), 11);
}

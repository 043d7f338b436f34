//! The CSAF parser over `../shared/data/csaf`: CISA's 2,383 advisories (JSON
//! Lines and the byte-exact samples), the OASIS examples (and the provider
//! documents beside them, which must be refused), and the OASIS conformance
//! test documents (many deliberately invalid: nothing may panic).

use crate::support;
use openwarp_advisory::csaf::{self, CsafDocument};
use openwarp_advisory::{Affected, ParseError, Parsed, Rejection, SourceRecord};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::time::Instant;

#[derive(Default)]
struct Collected {
    records: Vec<SourceRecord>,
    rejected: Vec<Rejection>,
}

impl Collected {
    fn sink(&mut self) -> impl FnMut(Parsed) + '_ {
        |p| match p {
            Parsed::Record(r) => self.records.push(*r),
            Parsed::Rejected(r) => self.rejected.push(r),
            Parsed::Epss(_) => panic!("CSAF yields no EPSS scores"),
            Parsed::Warning(w) => panic!("unexpected warning: {w}"),
        }
    }
}

fn mb(bytes: usize) -> f64 {
    bytes as f64 / 1_000_000.0
}

#[test]
fn cisa_advisories() {
    let Some(dir) = support::corpus_dir() else {
        return;
    };
    let dir = dir.join("csaf/cisa-csaf");
    let bytes = support::read(&dir.join("cisa-csaf-advisories.jsonl.xz"));

    // Baseline: serde_json::Value over the same lines.
    let start = Instant::now();
    let mut values = 0;
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        serde_json::from_slice::<serde_json::Value>(line).unwrap();
        values += 1;
    }
    let baseline = start.elapsed();

    let mut out = Collected::default();
    let start = Instant::now();
    let documents = csaf::parse_lines(&bytes, &mut out.sink()).unwrap();
    let took = start.elapsed();
    eprintln!(
        "csaf cisa-csaf-advisories.jsonl.xz: {documents} documents, {} records, {} rejected, {:.1} MB in {:.0?} ({:.0} MB/s, {:.0} records/s); serde_json::Value: {:.0?} ({:.2}x)",
        out.records.len(),
        out.rejected.len(),
        mb(bytes.len()),
        took,
        mb(bytes.len()) / took.as_secs_f64(),
        out.records.len() as f64 / took.as_secs_f64(),
        baseline,
        took.as_secs_f64() / baseline.as_secs_f64(),
    );
    assert_eq!(values, 2383);
    assert_eq!(documents, 2383);
    assert_eq!(out.records.len(), 7916);
    assert!(
        out.rejected.is_empty(),
        "{:#?}",
        &out.rejected[..out.rejected.len().min(5)]
    );

    // Document metadata, line by line.
    let mut categories: BTreeMap<String, usize> = BTreeMap::new();
    let mut warnings: BTreeMap<String, usize> = BTreeMap::new();
    let mut documents_with_warnings = 0;
    for line in bytes.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let doc = csaf::parse_document(std::str::from_utf8(line).unwrap(), &mut |_| {}).unwrap();
        *categories.entry(doc.category.clone()).or_default() += 1;
        assert_eq!(doc.csaf_version, "2.0");
        assert_eq!(doc.tlp, Some(openwarp_advisory::Tlp::Clear));
        assert_eq!(doc.records, doc.vulnerabilities);
        if !doc.warnings.is_empty() {
            documents_with_warnings += 1;
        }
        for w in &doc.warnings {
            *warnings.entry(warning_kind(w)).or_default() += 1;
        }
    }
    eprintln!("csaf cisa categories: {categories:?}");
    eprintln!("csaf cisa: {documents_with_warnings} documents with warnings: {warnings:#?}");
    assert_eq!(categories.get("csaf_security_advisory"), Some(&2379));
    assert_eq!(categories.get("csaf_vex"), Some(&4));

    // Every record is about a CVE, unique, with products resolved.
    let mut ids = std::collections::HashSet::new();
    let (mut statements, mut unresolved, mut scored) = (0, 0, 0);
    let mut by_status: BTreeMap<String, usize> = BTreeMap::new();
    for r in &out.records {
        assert!(ids.insert(r.record_id.clone()), "duplicate {}", r.record_id);
        assert!(openwarp_advisory::is_cve_id(&r.vuln_id), "{}", r.vuln_id);
        assert!(
            r.description.is_some(),
            "{} has no description",
            r.record_id
        );
        if !r.cvss.is_empty() {
            scored += 1;
        }
        for a in &r.affected {
            let Affected::Csaf(s) = a else {
                panic!("{}: not a CSAF statement", r.record_id)
            };
            statements += 1;
            *by_status.entry(format!("{:?}", s.status)).or_default() += 1;
            if s.vendor.is_none() && s.product.is_none() {
                unresolved += 1;
            }
        }
    }
    eprintln!(
        "csaf cisa: {statements} product statements ({unresolved} without vendor or product), {scored} records with CVSS; by status {by_status:?}"
    );
    assert!(by_status.get("KnownAffected").copied().unwrap_or(0) > 7916);

    // The byte-exact samples give the same records as their JSON Lines copies.
    let by_id: HashMap<&str, Vec<&SourceRecord>> =
        out.records.iter().fold(HashMap::new(), |mut m, r| {
            let tid = r.record_id.split_once('#').map_or("", |(t, _)| t);
            m.entry(tid).or_default().push(r);
            m
        });
    let samples = support::files(&dir.join("samples"), ".json");
    assert_eq!(samples.len(), 52);
    let start = Instant::now();
    let (mut sample_bytes, mut sample_records) = (0, 0);
    for path in &samples {
        let bytes = support::read(path);
        sample_bytes += bytes.len();
        let mut got = Collected::default();
        let doc = csaf::parse(&bytes, &mut got.sink())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(
            got.rejected.is_empty(),
            "{}: {:?}",
            path.display(),
            got.rejected
        );
        sample_records += got.records.len();
        let expected = &by_id[doc.tracking_id.as_str()];
        assert_eq!(got.records.len(), expected.len(), "{}", path.display());
        for (a, b) in got.records.iter().zip(expected) {
            assert_eq!(&a, b, "{}", path.display());
        }
    }
    eprintln!(
        "csaf cisa samples: {} files, {sample_records} records, {:.1} MB in {:.0?}",
        samples.len(),
        mb(sample_bytes),
        start.elapsed()
    );
}

/// A warning without its ids, to count them by kind.
fn warning_kind(w: &str) -> String {
    let mut out = String::new();
    let mut quoted = false;
    for c in w.chars() {
        if c == '\'' {
            quoted = !quoted;
            if quoted {
                out.push_str("'…'");
            }
        } else if !quoted && !c.is_ascii_digit() {
            out.push(c);
        }
    }
    out
}

fn parse_file(path: &Path) -> (Result<CsafDocument, ParseError>, Collected) {
    let bytes = support::read(path);
    let mut got = Collected::default();
    let result = csaf::parse(&bytes, &mut got.sink());
    (result, got)
}

#[test]
fn oasis_examples() {
    let Some(dir) = support::corpus_dir() else {
        return;
    };
    let dir = dir.join("csaf/oasis-csaf-2.0-examples");
    let files = support::files(&dir, ".json");
    let mut categories: BTreeMap<String, usize> = BTreeMap::new();
    let mut refused = Vec::new();
    let mut records = 0;
    for path in &files {
        let name = path.strip_prefix(&dir).unwrap().display().to_string();
        let (result, got) = parse_file(path);
        match result {
            Ok(doc) => {
                assert!(name.starts_with("csaf/"), "{name} should have been refused");
                assert!(got.rejected.is_empty(), "{name}: {:?}", got.rejected);
                assert_eq!(got.records.len(), doc.vulnerabilities);
                eprintln!(
                    "csaf oasis {name}: {} ({}), {} records, {} warnings{}",
                    doc.tracking_id,
                    doc.category,
                    got.records.len(),
                    doc.warnings.len(),
                    doc.warnings
                        .first()
                        .map(|w| format!(", e.g. {w}"))
                        .unwrap_or_default()
                );
                *categories.entry(doc.category).or_default() += 1;
                records += got.records.len();
            }
            Err(ParseError::WrongShape { reason, .. }) => {
                assert!(!name.starts_with("csaf/"), "{name}: {reason}");
                eprintln!("csaf oasis {name}: refused: {reason}");
                assert!(reason.contains("not a CSAF document"), "{name}: {reason}");
                refused.push(name);
            }
            Err(e) => panic!("{name}: {e}"),
        }
    }
    eprintln!(
        "csaf oasis: {categories:?}, {records} records, {} refused",
        refused.len()
    );
    assert_eq!(files.len(), 27);
    // 6 vendor advisories (one with Cisco's own category, one informational)
    // and 13 VEX examples (SOURCE.md says 14; the folder holds 13).
    assert_eq!(categories.get("csaf_vex"), Some(&13));
    assert_eq!(categories.values().sum::<usize>(), 6 + 13);
    assert_eq!(records, 59);
    // 4 ROLIE, 3 aggregator and 1 provider-metadata document.
    assert_eq!(refused.len(), 8);
    assert_eq!(
        refused.iter().filter(|n| n.starts_with("ROLIE/")).count(),
        4
    );
    assert_eq!(
        refused
            .iter()
            .filter(|n| n.starts_with("aggregator/"))
            .count(),
        3
    );
    assert_eq!(
        refused
            .iter()
            .filter(|n| n.starts_with("provider-metadata/"))
            .count(),
        1
    );
}

#[test]
fn oasis_conformance_documents_never_panic() {
    let Some(dir) = support::corpus_dir() else {
        return;
    };
    let dir = dir.join("csaf/oasis-csaf-2.0-validator-tests");
    let files = support::files(&dir, ".json");
    // 241 under validator/data, 6 under filenames/data, plus the test-case schema.
    assert_eq!(files.len(), 248);
    let mut by_folder: BTreeMap<String, [usize; 5]> = BTreeMap::new();
    let mut errors: BTreeMap<String, usize> = BTreeMap::new();
    let start = Instant::now();
    for path in &files {
        let folder = path
            .parent()
            .unwrap()
            .strip_prefix(&dir)
            .unwrap()
            .display()
            .to_string();
        let (result, got) = parse_file(path);
        let counts = by_folder.entry(folder).or_default();
        match result {
            Ok(doc) => {
                counts[0] += 1;
                assert_eq!(doc.records + doc.rejected, doc.vulnerabilities);
                assert_eq!(got.records.len(), doc.records);
                assert_eq!(got.rejected.len(), doc.rejected);
                counts[4] += doc.warnings.len();
            }
            Err(e) => {
                counts[1] += 1;
                *errors.entry(e.to_string()).or_default() += 1;
            }
        }
        counts[2] += got.records.len();
        counts[3] += got.rejected.len();
    }
    for (folder, [ok, failed, records, rejected, warnings]) in &by_folder {
        eprintln!(
            "csaf conformance {folder}: {ok} parsed, {failed} refused, {records} records, {rejected} vulnerabilities rejected, {warnings} warnings"
        );
    }
    eprintln!("csaf conformance refusals: {errors:#?}");
    eprintln!(
        "csaf conformance: {} files in {:.0?}",
        files.len(),
        start.elapsed()
    );
    let parsed: usize = by_folder.values().map(|c| c[0]).sum();
    assert!(parsed > 200, "only {parsed} conformance documents parsed");
}

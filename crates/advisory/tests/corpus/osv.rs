//! The OSV parser over the Go and Bitnami databases (JSON Lines and samples).

use crate::support;
use openwarp_advisory::model::{
    Affected, OsvRangeKind, Parsed, RecordState, SourceRecord, is_cve_id,
};
use openwarp_advisory::osv;
use std::collections::HashSet;
use std::time::Instant;

struct Tally {
    records: Vec<SourceRecord>,
    rejected: Vec<String>,
}

fn collect(run: impl FnOnce(&mut dyn FnMut(Parsed))) -> Tally {
    let mut t = Tally {
        records: Vec::new(),
        rejected: Vec::new(),
    };
    run(&mut |p| match p {
        Parsed::Record(r) => t.records.push(*r),
        Parsed::Rejected(r) => t.rejected.push(r.to_string()),
        Parsed::Epss(_) => panic!("EPSS from OSV"),
        Parsed::Warning(w) => panic!("unexpected warning: {w}"),
    });
    t
}

struct Expect {
    records: usize,
    with_cve: usize,
    affected: usize,
    semver_ranges: usize,
    withdrawn: usize,
    all_have_cpes: bool,
}

fn lines_file(dir: &std::path::Path, name: &str, expect: Expect) {
    let path = dir.join(name);
    let bytes = support::read(&path);
    let start = Instant::now();
    let t = collect(|sink| osv::parse_lines(&bytes, sink).unwrap());
    let took = start.elapsed();
    let value_start = Instant::now();
    let mut values = 0usize;
    for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
        let _: serde_json::Value = serde_json::from_slice(line).unwrap();
        values += 1;
    }
    let value_took = value_start.elapsed();
    let secs = took.as_secs_f64().max(1e-9);
    eprintln!(
        "osv {name}: {} records, {} rejected, {} bytes in {:.3}s ({:.0} MB/s, {:.0} records/s); serde_json::Value over the same lines: {:.3}s ({values} values, ratio {:.2})",
        t.records.len(),
        t.rejected.len(),
        bytes.len(),
        secs,
        bytes.len() as f64 / secs / 1e6,
        t.records.len() as f64 / secs,
        value_took.as_secs_f64(),
        secs / value_took.as_secs_f64().max(1e-9),
    );
    assert!(t.rejected.is_empty(), "{name}: {:#?}", t.rejected);
    assert_eq!(t.records.len(), expect.records, "{name}: records");
    let ids: HashSet<&str> = t.records.iter().map(|r| r.record_id.as_str()).collect();
    assert_eq!(ids.len(), t.records.len(), "{name}: record ids unique");
    let with_cve = t.records.iter().filter(|r| is_cve_id(&r.vuln_id)).count();
    assert_eq!(with_cve, expect.with_cve, "{name}: records with a CVE");
    let affected: Vec<_> = t
        .records
        .iter()
        .flat_map(|r| r.affected.iter())
        .map(|a| match a {
            Affected::Osv(a) => a,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(affected.len(), expect.affected, "{name}: affected entries");
    let ranges: Vec<_> = affected.iter().flat_map(|a| a.ranges.iter()).collect();
    assert_eq!(ranges.len(), expect.semver_ranges, "{name}: ranges");
    assert!(
        ranges
            .iter()
            .all(|r| r.kind == OsvRangeKind::Semver && !r.events.is_empty())
    );
    let withdrawn = t
        .records
        .iter()
        .filter(|r| matches!(r.state, RecordState::Withdrawn { at: Some(_) }))
        .count();
    assert_eq!(withdrawn, expect.withdrawn, "{name}: withdrawn");
    if expect.all_have_cpes {
        assert!(
            affected.iter().all(|a| !a.cpes.is_empty()),
            "{name}: CPEs everywhere"
        );
    }
    for r in &t.records {
        assert!(
            !r.aliases.contains(&r.vuln_id),
            "{}: vuln_id repeated",
            r.record_id
        );
        if r.vuln_id != r.record_id {
            assert!(
                r.aliases.contains(&r.record_id),
                "{}: own id not an alias",
                r.record_id
            );
        }
    }
    let scored = t.records.iter().filter(|r| !r.cvss.is_empty()).count();
    let events: usize = ranges.iter().map(|r| r.events.len()).sum();
    eprintln!(
        "osv {name}: {with_cve} with a CVE, {} affected, {} ranges, {events} events, {withdrawn} withdrawn, {scored} with CVSS",
        affected.len(),
        ranges.len()
    );
}

fn samples(dir: &std::path::Path, expect: usize, prefix: &str) {
    let files = support::files(dir, ".json");
    assert_eq!(files.len(), expect, "{}", dir.display());
    let start = Instant::now();
    let mut n = 0;
    for f in &files {
        let t = collect(|sink| osv::parse(&support::read(f), sink).unwrap());
        assert!(t.rejected.is_empty(), "{}: {:?}", f.display(), t.rejected);
        assert_eq!(t.records.len(), 1, "{}", f.display());
        let r = &t.records[0];
        let stem = f.file_stem().unwrap().to_string_lossy();
        assert_eq!(r.record_id, stem);
        assert!(r.record_id.starts_with(prefix));
        assert!(is_cve_id(&r.vuln_id), "{}", r.record_id);
        n += 1;
    }
    eprintln!(
        "osv {}: {n} sample files in {:.3}s",
        dir.display(),
        start.elapsed().as_secs_f64()
    );
}

#[test]
fn go_vulndb() {
    let Some(dir) = support::corpus_dir() else {
        return;
    };
    let dir = dir.join("osv/go-vulndb");
    lines_file(
        &dir,
        "go-vulndb-osv.jsonl.xz",
        Expect {
            records: 4291,
            with_cve: 3894,
            affected: 6125,
            semver_ranges: 6125,
            withdrawn: 17,
            all_have_cpes: false,
        },
    );
    samples(&dir.join("samples"), 10, "GO-");
}

#[test]
fn bitnami_vulndb() {
    let Some(dir) = support::corpus_dir() else {
        return;
    };
    let dir = dir.join("osv/bitnami-vulndb");
    lines_file(
        &dir,
        "bitnami-vulndb-osv.jsonl.xz",
        Expect {
            records: 7444,
            with_cve: 7444,
            affected: 7444,
            semver_ranges: 7476,
            withdrawn: 0,
            all_have_cpes: true,
        },
    );
    samples(&dir.join("samples"), 16, "BIT-");
}

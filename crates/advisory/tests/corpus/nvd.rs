//! The NVD parser over every NVD feed file and API response in the corpus.

use crate::support;
use openwarp_advisory::{Affected, Parsed, RecordState, nvd};
use std::time::Instant;

/// Records per feed file, from `nvd/SOURCE.md`.
const FEEDS: &[(&str, usize)] = &[
    ("nvdcve-2.0-2002.json.gz", 6_770),
    ("nvdcve-2.0-2003.json.gz", 1_555),
    ("nvdcve-2.0-2004.json.gz", 2_707),
    ("nvdcve-2.0-2005.json.gz", 4_769),
    ("nvdcve-2.0-2006.json.gz", 7_143),
    ("nvdcve-2.0-2007.json.gz", 6_580),
    ("nvdcve-2.0-2008.json.gz", 7_177),
    ("nvdcve-2.0-2011.json.gz", 4_897),
    ("nvdcve-2.0-2015.json.gz", 8_769),
    ("nvdcve-2.0-2026.json.gz", 7_346),
    ("nvdcve-2.0-modified.json.gz", 2_286),
    ("nvdcve-2.0-recent.json.gz", 1_447),
];

#[derive(Default)]
struct Counts {
    records: usize,
    rejected_cves: usize,
    rejections: Vec<String>,
    configurations: usize,
    cpe_matches: usize,
    cvss: usize,
    stated_differs: usize,
}

fn parse_counting(bytes: &[u8]) -> (nvd::NvdPage, Counts) {
    let mut c = Counts::default();
    let page = nvd::parse(bytes, &mut |p| match p {
        Parsed::Record(r) => {
            c.records += 1;
            if matches!(r.state, RecordState::Rejected { .. }) {
                c.rejected_cves += 1;
            }
            c.cvss += r.cvss.len();
            c.stated_differs += r.cvss.iter().filter(|s| s.stated_score.is_some()).count();
            for a in &r.affected {
                if let Affected::Nvd(config) = a {
                    c.configurations += 1;
                    c.cpe_matches += config
                        .nodes
                        .iter()
                        .map(|n| n.cpe_match.len())
                        .sum::<usize>();
                }
            }
        }
        Parsed::Rejected(r) => c.rejections.push(r.to_string()),
        Parsed::Epss(_) => panic!("NVD yields no EPSS"),
        Parsed::Warning(w) => panic!("unexpected warning: {w}"),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    (page, c)
}

/// cpeMatch entries counted independently, over a `serde_json::Value` tree.
fn cpe_matches_in_value(bytes: &[u8]) -> usize {
    let v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    let mut n = 0;
    for vuln in v["vulnerabilities"].as_array().unwrap() {
        for config in vuln["cve"]["configurations"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for node in config["nodes"].as_array().unwrap() {
                n += node["cpeMatch"].as_array().unwrap().len();
            }
        }
    }
    n
}

#[test]
fn nvd_feeds() {
    let Some(dir) = support::corpus_dir() else {
        return;
    };
    let dir = dir.join("nvd");
    let mut total_records = 0;
    let mut total_matches = 0;
    let mut total_bytes = 0;
    let mut parse_secs = 0.0;
    let mut value_secs = 0.0;
    for &(name, expected) in FEEDS {
        let bytes = support::read(&dir.join(name));
        let start = Instant::now();
        let (page, c) = parse_counting(&bytes);
        let secs = start.elapsed().as_secs_f64();
        let start = Instant::now();
        let value: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        value_secs += start.elapsed().as_secs_f64();
        drop(value);
        parse_secs += secs;
        total_bytes += bytes.len();
        eprintln!(
            "nvd {name}: {} records ({} rejected CVEs), {} configurations, {} cpeMatch, {} CVSS ({} stated score differs), {} rejections; {:.1} MB in {:.0} ms",
            c.records,
            c.rejected_cves,
            c.configurations,
            c.cpe_matches,
            c.cvss,
            c.stated_differs,
            c.rejections.len(),
            bytes.len() as f64 / 1e6,
            secs * 1e3
        );
        assert!(c.rejections.is_empty(), "{name}: {:#?}", c.rejections);
        assert_eq!(c.records, expected, "{name}");
        assert_eq!(page.total_results, expected, "{name}");
        assert_eq!(page.results_per_page, expected, "{name}");
        assert_eq!(page.start_index, 0, "{name}");
        assert!(page.timestamp.is_some(), "{name}");
        if name == "nvdcve-2.0-2003.json.gz" {
            assert_eq!(c.cpe_matches, 10_135);
            assert_eq!(c.cpe_matches, cpe_matches_in_value(&bytes));
        }
        total_records += c.records;
        total_matches += c.cpe_matches;
    }
    eprintln!(
        "nvd feeds: {total_records} records, {total_matches} cpeMatch; {:.1} MB in {:.2} s = {:.0} MB/s, {:.0} records/s; serde_json::Value alone {:.2} s (ratio {:.2})",
        total_bytes as f64 / 1e6,
        parse_secs,
        total_bytes as f64 / 1e6 / parse_secs,
        total_records as f64 / parse_secs,
        value_secs,
        parse_secs / value_secs
    );
    assert_eq!(total_records, 61_446);
    // SOURCE.md: "~472,000".
    assert_eq!(total_matches, 472_533);
}

#[test]
fn nvd_api_responses() {
    let Some(dir) = support::corpus_dir() else {
        return;
    };
    let files = support::files(&dir.join("nvd/osv-dev-testdata-nvd-api-2.0"), ".json");
    if files.is_empty() {
        eprintln!("nvd: no osv-dev-testdata-nvd-api-2.0 responses; skipped");
        return;
    }
    assert_eq!(files.len(), 23);
    for path in &files {
        let bytes = support::read(path);
        let (page, c) = parse_counting(&bytes);
        assert!(
            c.rejections.is_empty(),
            "{}: {:#?}",
            path.display(),
            c.rejections
        );
        assert_eq!(
            (c.records, page.total_results),
            (1, 1),
            "{}",
            path.display()
        );
        let stem = path
            .file_stem()
            .and_then(|s| s.to_str())
            .unwrap_or_default();
        let mut id = None;
        nvd::parse(&bytes, &mut |p| {
            if let Parsed::Record(r) = p {
                id = Some(r.record_id.clone());
            }
        })
        .unwrap();
        assert_eq!(id.as_deref(), Some(stem));
    }
    eprintln!("nvd api responses: {} files, 1 record each", files.len());
}

//! Property-based fuzzing of every parser: arbitrary bytes, and real fixtures
//! mutated, truncated and spliced. The property: no panic, and every item
//! yielded is well-formed (records have ids, rejections have reasons).
//! Memory is bounded by construction: parsers hold the input and per-record
//! structures only, never more than the input describes.

use openwarp_advisory::parse::parse_any;
use openwarp_advisory::{Parsed, csaf, cve5, epss, kev, nvd, osv};
use proptest::prelude::*;
use std::path::Path;

fn fixtures() -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let mut out: Vec<Vec<u8>> = crate::support::files(&dir, "")
        .into_iter()
        .filter(|p| !p.to_string_lossy().ends_with(".md"))
        .map(|p| std::fs::read(p).expect("fixture"))
        .collect();
    out.sort_by_key(Vec::len);
    out
}

type Parser = fn(&[u8], &mut dyn FnMut(Parsed));

/// Every entry point, so mutated inputs reach parsers even when detection
/// would no longer route them there.
const PARSERS: [Parser; 10] = [
    |b, s| drop(parse_any(b, s)),
    |b, s| drop(nvd::parse(b, s)),
    |b, s| drop(cve5::parse(b, s)),
    |b, s| drop(cve5::parse_lines(b, s)),
    |b, s| drop(kev::parse(b, s)),
    |b, s| drop(csaf::parse(b, s)),
    |b, s| drop(csaf::parse_lines(b, s)),
    |b, s| drop(osv::parse(b, s)),
    |b, s| drop(osv::parse_lines(b, s)),
    |b, s| drop(epss::parse(b, s)),
];

fn check(bytes: &[u8]) {
    for parse in PARSERS {
        parse(bytes, &mut |p| match p {
            Parsed::Record(r) => assert!(!r.record_id.is_empty() && !r.vuln_id.is_empty()),
            Parsed::Epss(e) => assert!((0.0..=1.0).contains(&e.score), "{e:?}"),
            Parsed::Rejected(r) | Parsed::Warning(r) => assert!(!r.reason.is_empty()),
        });
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        check(&bytes);
    }

    #[test]
    fn mutated_fixtures(which in any::<prop::sample::Index>(),
                        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16)) {
        let all = fixtures();
        let mut bytes = which.get(&all).clone();
        for (at, byte) in edits {
            let i = at.index(bytes.len().max(1));
            if let Some(b) = bytes.get_mut(i) {
                *b = byte;
            }
        }
        check(&bytes);
    }

    #[test]
    fn truncated_and_spliced_fixtures(a in any::<prop::sample::Index>(), b in any::<prop::sample::Index>(),
                                      cut_a in any::<prop::sample::Index>(), cut_b in any::<prop::sample::Index>()) {
        let all = fixtures();
        let (x, y) = (a.get(&all), b.get(&all));
        let head = &x[..cut_a.index(x.len() + 1)];
        check(head);
        let mut spliced = head.to_vec();
        spliced.extend_from_slice(&y[cut_b.index(y.len() + 1)..]);
        check(&spliced);
    }

    #[test]
    fn json_values_in_every_shape(value in json_value(4)) {
        let text = value.to_string();
        check(text.as_bytes());
        // The same value in each format's own envelope.
        for wrapped in [
            format!(r#"{{"format":"NVD_CVE","resultsPerPage":1,"vulnerabilities":[{{"cve":{text}}}]}}"#),
            format!(r#"{{"dataType":"CVE_RECORD","dataVersion":"5.1","cveMetadata":{text},"containers":{text}}}"#),
            format!(r#"{{"catalogVersion":"1","vulnerabilities":[{text}]}}"#),
            format!(r#"{{"document":{{"csaf_version":"2.0","tracking":{text}}},"product_tree":{text},"vulnerabilities":[{text}]}}"#),
            format!(r#"{{"schema_version":"1.6.0","id":"X-1","modified":"2024-01-01T00:00:00Z","affected":[{text}],"severity":[{text}]}}"#),
        ] {
            check(wrapped.as_bytes());
        }
    }
}

fn json_value(depth: u32) -> impl Strategy<Value = serde_json::Value> {
    use serde_json::Value;
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "[a-zA-Z0-9:./<>=*_ -]{0,24}".prop_map(Value::String),
        prop_oneof![
            Just("CVE-2024-3400"),
            Just("2024-04-12T08:15:06.230"),
            Just("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"),
            Just("cpe:2.3:a:x:y:*:*:*:*:*:*:*:*"),
            Just("PUBLISHED"),
            Just("REJECTED"),
            Just("SEMVER"),
            Just("known_affected"),
        ]
        .prop_map(|s| Value::String(s.to_string())),
    ];
    leaf.prop_recursive(depth, 64, 8, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            proptest::collection::btree_map(
                prop_oneof![
                    Just("id"),
                    Just("cve"),
                    Just("configurations"),
                    Just("nodes"),
                    Just("cpeMatch"),
                    Just("criteria"),
                    Just("versions"),
                    Just("affected"),
                    Just("ranges"),
                    Just("events"),
                    Just("product_status"),
                    Just("branches"),
                    Just("metrics"),
                    Just("cvssData"),
                    Just("vectorString"),
                    Just("cveID"),
                    Just("name"),
                    Just("version"),
                    Just("lessThan"),
                    Just("introduced"),
                    Just("fixed"),
                ]
                .prop_map(str::to_string),
                inner,
                0..6,
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

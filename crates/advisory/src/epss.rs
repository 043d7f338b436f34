//! FIRST's daily EPSS scores (CSV).
//!
//! ```text
//! #model_version:v2025.03.14,score_date:2026-01-30T12:55:00Z
//! cve,epss,percentile
//! CVE-1999-0001,0.01151,0.78086
//! ```
//!
//! The comment line is optional and becomes the [`EpssRun`]; the header is
//! required. The format has no quoting, so lines are split by hand: this file
//! has some 300,000 rows and is read daily. Positions in rejections are
//! 1-based line numbers.

use crate::model::{EpssRun, EpssScore, ParseError, Parsed, Rejection, is_cve_id};
use crate::time::parse_timestamp;

const HEADER: &str = "cve,epss,percentile";

/// Parse an EPSS CSV, handing each score (or rejected row) to `sink`, and
/// return the run's model version and score date from the comment line.
pub fn parse(bytes: &[u8], sink: &mut dyn FnMut(Parsed)) -> Result<EpssRun, ParseError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut run = EpssRun {
        model_version: None,
        score_date: None,
    };
    let mut lines = bytes.split(|&b| b == b'\n').enumerate();
    let mut header_found = false;
    for (index, line) in lines.by_ref() {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        if let Some(comment) = line.strip_prefix(b"#") {
            read_comment(&String::from_utf8_lossy(comment), &mut run);
            continue;
        }
        if line.eq_ignore_ascii_case(HEADER.as_bytes()) {
            header_found = true;
            break;
        }
        let shown: String = String::from_utf8_lossy(line).chars().take(80).collect();
        return Err(ParseError::WrongShape {
            expected: "EPSS CSV",
            reason: format!(
                "line {}: expected the header `{HEADER}`, found `{shown}`",
                index + 1
            ),
        });
    }
    if !header_found {
        return Err(ParseError::WrongShape {
            expected: "EPSS CSV",
            reason: format!("no `{HEADER}` header"),
        });
    }
    for (index, line) in lines {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        sink(match row(line) {
            Ok(score) => Parsed::Epss(score),
            Err((record_id, reason)) => Parsed::Rejected(Rejection {
                position: index + 1,
                record_id,
                reason,
            }),
        });
    }
    Ok(run)
}

/// `model_version:v2025.03.14,score_date:2026-01-30T12:55:00Z`
fn read_comment(comment: &str, run: &mut EpssRun) {
    for part in comment.split(',') {
        let Some((key, value)) = part.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "model_version" if !value.is_empty() => run.model_version = Some(value.to_string()),
            "score_date" => run.score_date = parse_timestamp(value),
            _ => {}
        }
    }
}

fn row(line: &[u8]) -> Result<EpssScore, (Option<String>, String)> {
    let Ok(line) = std::str::from_utf8(line) else {
        return Err((None, "the line is not valid UTF-8".into()));
    };
    let mut fields = line.split(',');
    let (Some(cve), Some(epss), Some(percentile), None) =
        (fields.next(), fields.next(), fields.next(), fields.next())
    else {
        let n = line.split(',').count();
        return Err((None, format!("expected 3 columns ({HEADER}), found {n}")));
    };
    let cve = cve.trim();
    if !is_cve_id(cve) {
        return Err((None, format!("column cve: {cve:?} is not a CVE id")));
    }
    let fail = |reason: String| (Some(cve.to_string()), reason);
    let score = probability("epss", epss).map_err(fail)?;
    let percentile = probability("percentile", percentile).map_err(fail)?;
    Ok(EpssScore {
        cve_id: cve.to_string(),
        score,
        percentile,
    })
}

fn probability(column: &str, text: &str) -> Result<f64, String> {
    let text = text.trim();
    let value: f64 = text
        .parse()
        .map_err(|_| format!("column {column}: {text:?} is not a number"))?;
    if (0.0..=1.0).contains(&value) {
        Ok(value)
    } else {
        Err(format!("column {column}: {text} is outside 0..=1"))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    const FIRST_50: &str = include_str!("../tests/fixtures/epss/epss_first_50_lines.csv");

    fn run(bytes: &[u8]) -> (EpssRun, Vec<EpssScore>, Vec<Rejection>) {
        let mut scores = Vec::new();
        let mut rejected = Vec::new();
        let run = parse(bytes, &mut |p| match p {
            Parsed::Epss(s) => scores.push(s),
            Parsed::Warning(w) => panic!("unexpected warning: {w}"),
            Parsed::Rejected(r) => rejected.push(r),
            Parsed::Record(_) => panic!("record from EPSS"),
        })
        .unwrap();
        (run, scores, rejected)
    }

    #[test]
    fn real_head_of_file() {
        let (run, scores, rejected) = run(FIRST_50.as_bytes());
        assert!(rejected.is_empty(), "{rejected:?}");
        assert_eq!(run.model_version.as_deref(), Some("v2025.03.14"));
        assert_eq!(
            run.score_date.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-01-30T12:55:00+00:00")
        );
        assert_eq!(scores.len(), 48);
        assert_eq!(
            scores[0],
            EpssScore {
                cve_id: "CVE-1999-0001".into(),
                score: 0.01151,
                percentile: 0.78086
            }
        );
        assert_eq!(scores[2].cve_id, "CVE-1999-0003");
        assert_eq!(scores[2].score, 0.89352);
        assert_eq!(scores[2].percentile, 0.99527);
    }

    #[test]
    fn without_comment_with_crlf_and_scientific_notation() {
        let (run, scores, rejected) =
            run(b"cve,epss,percentile\r\nCVE-2026-25210,5e-05,0.00191\r\n\r\n");
        assert_eq!(run.model_version, None);
        assert_eq!(run.score_date, None);
        assert!(rejected.is_empty());
        assert_eq!(scores[0].score, 0.00005);
        assert_eq!(scores[0].percentile, 0.00191);
    }

    #[test]
    fn bad_rows_are_rejected_with_line_numbers() {
        let text = b"#model_version:v1\ncve,epss,percentile\nCVE-2020-0001,0.5,0.5\nGHSA-1,0.1,0.1\nCVE-2020-0002,abc,0.1\nCVE-2020-0003,0.1,1.5\nCVE-2020-0004,0.1\nCVE-2020-0005,0.1,0.2,0.3\nCVE-2020-0006,NaN,0.1\n\xff,1,1\nCVE-2020-0007,1,0\n";
        let (run, scores, rejected) = run(text);
        assert_eq!(run.model_version.as_deref(), Some("v1"));
        assert_eq!(
            scores.iter().map(|s| s.cve_id.as_str()).collect::<Vec<_>>(),
            ["CVE-2020-0001", "CVE-2020-0007"]
        );
        let got: Vec<(usize, Option<&str>, &str)> = rejected
            .iter()
            .map(|r| (r.position, r.record_id.as_deref(), r.reason.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (4, None, "column cve: \"GHSA-1\" is not a CVE id"),
                (
                    5,
                    Some("CVE-2020-0002"),
                    "column epss: \"abc\" is not a number"
                ),
                (
                    6,
                    Some("CVE-2020-0003"),
                    "column percentile: 1.5 is outside 0..=1"
                ),
                (7, None, "expected 3 columns (cve,epss,percentile), found 2"),
                (8, None, "expected 3 columns (cve,epss,percentile), found 4"),
                (
                    9,
                    Some("CVE-2020-0006"),
                    "column epss: NaN is outside 0..=1"
                ),
                (10, None, "the line is not valid UTF-8"),
            ]
        );
    }

    #[test]
    fn missing_header_is_wrong_shape() {
        let mut sink = |_p: Parsed| {};
        for bad in [
            &b""[..],
            b"#model_version:v1\n",
            b"CVE-1999-0001,0.01151,0.78086\n",
            b"cve,score\nCVE-1999-0001,0.1\n",
        ] {
            assert!(
                matches!(parse(bad, &mut sink), Err(ParseError::WrongShape { .. })),
                "{bad:?}"
            );
        }
    }
}

//! CVSS vectors to scores, through RustSec's maintained `cvss` crate
//! (v2.0, v3.0, v3.1 and v4.0). We keep the vector as published and compute
//! the base score from it rather than trusting a copied number.

use crate::model::{CvssScore, CvssVersion, Severity};
use std::str::FromStr;

/// A vector we could not score.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("CVSS vector '{vector}' is not valid: {reason}")]
pub struct CvssError {
    pub vector: String,
    pub reason: String,
}

/// Parse `vector`, compute its base score, and describe who assessed it.
/// `stated` is the score the source printed; it is kept only when it differs.
pub fn assess(
    vector: &str,
    assessor: &str,
    kind: Option<&str>,
    stated: Option<f64>,
) -> Result<CvssScore, CvssError> {
    let vector = vector.trim();
    let parsed = cvss::Cvss::from_str(vector).map_err(|e| CvssError {
        vector: vector.to_string(),
        reason: e.to_string(),
    })?;
    let version = match &parsed {
        cvss::Cvss::CvssV20(_) => CvssVersion::V2,
        cvss::Cvss::CvssV30(_) => CvssVersion::V30,
        cvss::Cvss::CvssV31(_) => CvssVersion::V31,
        cvss::Cvss::CvssV40(_) => CvssVersion::V40,
        _ => {
            return Err(CvssError {
                vector: vector.to_string(),
                reason: "unsupported CVSS version".into(),
            });
        }
    };
    if let Some(metric) = missing_base_metric(version, vector) {
        return Err(CvssError {
            vector: vector.to_string(),
            reason: format!("the base metric {metric} is missing"),
        });
    }
    let base_score = match version {
        // The crate scores a v4 vector with its threat and environmental
        // metrics (CVSS-BTE); the base score (CVSS-B) uses the base metrics only.
        CvssVersion::V40 => round1(v4_base(vector).unwrap_or_else(|| parsed.score())),
        _ => round1(parsed.score()),
    };
    let severity = match version {
        // CVSS v2 has no "critical" band; NVD maps 7.0–10.0 to high.
        CvssVersion::V2 if base_score >= 7.0 => Severity::High,
        _ => Severity::from_score(base_score),
    };
    let stated_score = stated.map(round1).filter(|s| (s - base_score).abs() > 0.05);
    Ok(CvssScore {
        version,
        vector: vector.to_string(),
        base_score,
        severity,
        stated_score,
        assessor: assessor.to_string(),
        kind: kind.map(str::to_string),
    })
}

/// The `cvss` crate fills in absent metrics; the specification does not allow
/// a base vector without all of them, so we insist.
fn missing_base_metric(version: CvssVersion, vector: &str) -> Option<&'static str> {
    let required: &[&'static str] = match version {
        CvssVersion::V2 => &["AV", "AC", "Au", "C", "I", "A"],
        CvssVersion::V30 | CvssVersion::V31 => &["AV", "AC", "PR", "UI", "S", "C", "I", "A"],
        CvssVersion::V40 => &[
            "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA",
        ],
    };
    let present: Vec<&str> = vector
        .split('/')
        .filter_map(|part| part.split_once(':').map(|(k, _)| k))
        .collect();
    required.iter().copied().find(|m| !present.contains(m))
}

const V4_BASE: [&str; 11] = [
    "AV", "AC", "AT", "PR", "UI", "VC", "VI", "VA", "SC", "SI", "SA",
];

/// The CVSS-B score of a v4 vector: score it with only its base metrics.
fn v4_base(vector: &str) -> Option<f64> {
    let base: Vec<&str> = vector
        .split('/')
        .skip(1)
        .filter(|part| {
            part.split_once(':')
                .is_some_and(|(k, _)| V4_BASE.contains(&k))
        })
        .collect();
    let only_base = format!("CVSS:4.0/{}", base.join("/"));
    cvss::Cvss::from_str(&only_base).ok().map(|c| c.score())
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

#[cfg(test)]
mod tests {
    use super::*;

    fn score(v: &str) -> f64 {
        assess(v, "test", None, None)
            .map(|s| s.base_score)
            .unwrap_or(-1.0)
    }

    #[test]
    fn known_scores() {
        // Log4Shell.
        assert_eq!(score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H"), 10.0);
        assert_eq!(score("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"), 9.8);
        assert_eq!(score("AV:N/AC:L/Au:N/C:P/I:P/A:P"), 7.5);
        assert_eq!(
            score("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N"),
            9.3
        );
    }

    #[test]
    fn v4_base_score_ignores_threat_metrics() {
        let base = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
        assert_eq!(score(base), 9.3);
        let with_threat = format!("{base}/E:U");
        assert_eq!(score(&with_threat), 9.3);
        assert_eq!(
            assess(&with_threat, "t", None, None)
                .map(|s| s.vector)
                .ok()
                .as_deref(),
            Some(with_threat.as_str()),
            "the vector is kept as published"
        );
    }

    #[test]
    fn versions_severities_and_stated_scores() {
        let s = assess(
            "AV:N/AC:L/Au:N/C:C/I:C/A:C",
            "nvd@nist.gov",
            Some("Primary"),
            Some(10.0),
        );
        let s = s.ok();
        assert_eq!(
            s.as_ref().map(|s| (s.version, s.severity, s.stated_score)),
            Some((CvssVersion::V2, Severity::High, None))
        );
        let s = assess(
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            "cna",
            None,
            Some(7.5),
        )
        .ok();
        assert_eq!(s.map(|s| s.stated_score), Some(Some(7.5)));
    }

    #[test]
    fn bad_vectors_are_errors_not_panics() {
        for bad in [
            "",
            "CVSS:3.1/",
            "CVSS:9.9/AV:N",
            "CVSS:3.1/AV:X/AC:L",
            "garbage",
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",
        ] {
            assert!(assess(bad, "t", None, None).is_err(), "{bad:?} accepted");
        }
    }
}

//! Timestamps as advisory sources write them, which is not always RFC 3339.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Parse a source timestamp leniently, as UTC when no offset is given:
/// `2024-04-12T08:15:06.230` (NVD), `2024-04-12T06:52:00.000Z` (CVE 5),
/// `2024-04-12T06:52:00+02:00` (CSAF), `2024-04-12` (KEV dates).
pub fn parse_timestamp(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    for fmt in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, fmt) {
            return Some(t.and_utc());
        }
    }
    if let Ok(t) = DateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

/// Parse a calendar date `YYYY-MM-DD` (also accepting a full timestamp).
pub fn parse_date(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d")
        .ok()
        .or_else(|| parse_timestamp(s).map(|t| t.date_naive()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn source_timestamps() {
        let expect = |s: &str, want: &str| {
            assert_eq!(
                parse_timestamp(s).map(|t| t.to_rfc3339()),
                Some(want.to_string()),
                "{s}"
            );
        };
        expect("2024-04-12T08:15:06.230", "2024-04-12T08:15:06.230+00:00");
        expect("2024-04-12T06:52:00.000Z", "2024-04-12T06:52:00+00:00");
        expect("2024-04-12T06:52:00+02:00", "2024-04-12T04:52:00+00:00");
        expect("2024-04-12", "2024-04-12T00:00:00+00:00");
        expect(
            "2026-03-14T03:00:00.6258976",
            "2026-03-14T03:00:00.625897600+00:00",
        );
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(
            parse_date("2024-04-12").map(|d| d.to_string()).as_deref(),
            Some("2024-04-12")
        );
    }
}

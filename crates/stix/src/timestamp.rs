//! STIX timestamps: RFC 3339 in UTC with a `Z`, never less precise than the
//! millisecond (STIX 2.1 §3.2 requires millisecond precision for `created`
//! and `modified`; the OASIS schemas check for three fraction digits).

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A point in time as STIX writes it: `2024-03-01T09:30:00.000Z`.
///
/// Written with exactly three fraction digits when the time falls on a whole
/// millisecond and with six or nine otherwise, so that a time read from
/// another producer is written back as precisely as it came.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub DateTime<Utc>);

impl Timestamp {
    /// The STIX form of this time.
    pub fn to_stix_string(self) -> String {
        let format = if self.0.timestamp_subsec_nanos().is_multiple_of(1_000_000) {
            SecondsFormat::Millis
        } else {
            SecondsFormat::AutoSi
        };
        self.0.to_rfc3339_opts(format, true)
    }
}

impl From<DateTime<Utc>> for Timestamp {
    fn from(t: DateTime<Utc>) -> Self {
        Timestamp(t)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_stix_string())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    /// Accepts any RFC 3339 time (a producer that writes an offset instead of
    /// `Z` is wrong, but the instant is still clear) and keeps it in UTC.
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| Timestamp(t.with_timezone(&Utc)))
            .map_err(|e| serde::de::Error::custom(format!("timestamp {s:?} is not RFC 3339: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn whole_seconds_are_written_with_milliseconds() {
        let t = Timestamp(Utc.with_ymd_and_hms(2024, 3, 1, 9, 30, 0).unwrap());
        assert_eq!(t.to_stix_string(), "2024-03-01T09:30:00.000Z");
    }

    #[test]
    fn finer_precision_is_kept() {
        let t: Timestamp = serde_json::from_str("\"2015-05-15T09:12:16.432678Z\"").unwrap();
        assert_eq!(
            serde_json::to_string(&t).unwrap(),
            "\"2015-05-15T09:12:16.432678Z\""
        );
        let t: Timestamp = serde_json::from_str("\"2015-05-15T09:12:16.432Z\"").unwrap();
        assert_eq!(t.to_stix_string(), "2015-05-15T09:12:16.432Z");
    }

    #[test]
    fn offsets_are_read_as_utc_and_garbage_is_refused() {
        let t: Timestamp = serde_json::from_str("\"2024-03-01T10:30:00+01:00\"").unwrap();
        assert_eq!(t.to_stix_string(), "2024-03-01T09:30:00.000Z");
        let e = serde_json::from_str::<Timestamp>("\"1 March 2024\"").unwrap_err();
        assert!(e.to_string().contains("1 March 2024"), "{e}");
    }
}

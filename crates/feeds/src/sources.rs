//! The configured list of live feed sources (`[[feeds]]` in `openwarp.toml`),
//! checked once at start-up so the scheduler and fetcher can trust it.
//!
//! ```toml
//! [[feeds]]
//! name = "cisa-kev"
//! kind = "file"
//! url = "https://www.cisa.gov/sites/default/files/feeds/known_exploited_vulnerabilities.json"
//! interval = "1h"
//!
//! [[feeds]]
//! name = "nvd"
//! kind = "nvd_api"
//! url = "https://services.nvd.nist.gov/rest/json/cves/2.0"
//! interval = "2h"
//! api_key = "…"   # optional: 50 requests per 30 s instead of 5
//! ```

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::collections::HashSet;
use std::time::Duration;

/// The shortest polling interval accepted: feed publishers ask for restraint
/// (NVD asks clients to sync no more than every two hours), and conditional
/// GETs make a short interval cheap but not free.
pub const MIN_INTERVAL: Duration = Duration::from_secs(5 * 60);

/// The longest polling interval accepted (a year), so intervals stay well
/// inside what date arithmetic can represent.
pub const MAX_INTERVAL: Duration = Duration::from_secs(366 * 24 * 3600);

/// The NVD CVE API 2.0 endpoint, for configuration defaults and docs.
pub const NVD_API_URL: &str = "https://services.nvd.nist.gov/rest/json/cves/2.0";

/// How a source is fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FeedKind {
    /// The NVD CVE API 2.0: paged, incremental by last-modified windows, with
    /// a checkpoint so a restart resumes where the last window ended.
    NvdApi,
    /// One document openwarp can parse (KEV JSON, EPSS CSV(.gz), an NVD feed
    /// (.json.gz), a CSAF document, an OSV record…), fetched whole with a
    /// conditional GET so an unchanged document is not downloaded again.
    File,
}

impl FeedKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FeedKind::NvdApi => "nvd_api",
            FeedKind::File => "file",
        }
    }
}

/// An API key. Its `Debug` output is redacted so it never reaches a log line;
/// it is sent only as the `apiKey` header to the source it is configured for.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ApiKey(String);

impl ApiKey {
    pub fn new(key: impl Into<String>) -> ApiKey {
        ApiKey(key.into())
    }

    /// The key itself, for the request header.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ApiKey(***)")
    }
}

/// One configured feed source. Deserialised from configuration as is, then
/// checked by [`FeedSources::new`] (or [`validate_sources`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedSource {
    /// Unique, `[a-z0-9-]`: names the source in logs and in the database's
    /// `feed_state`, so renaming a source starts it afresh.
    pub name: String,
    pub kind: FeedKind,
    /// `http://` or `https://`.
    pub url: String,
    /// How often to poll: `"30m"`, `"6h"`, `"1d"` (at least five minutes).
    #[serde(with = "interval_text")]
    pub interval: Duration,
    /// Sent as the `apiKey` header; only for `nvd_api` sources.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub api_key: Option<ApiKey>,
}

/// A list of sources that passed [`validate_sources`]: the only way to hand
/// sources to the scheduler, so it never meets a bad one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedSources(Vec<FeedSource>);

impl FeedSources {
    /// Check `sources` and wrap them; every problem is reported at once.
    pub fn new(sources: Vec<FeedSource>) -> Result<FeedSources, SourceErrors> {
        validate_sources(&sources)?;
        Ok(FeedSources(sources))
    }

    pub fn as_slice(&self) -> &[FeedSource] {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }
}

/// One thing wrong with one configured source.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("feed {feed}: name {reason}")]
    Name { feed: String, reason: String },
    #[error("feed '{name}' is configured more than once; names must be unique")]
    Duplicate { name: String },
    #[error("feed {feed}: url '{url}' {reason}")]
    Url {
        feed: String,
        url: String,
        reason: String,
    },
    #[error("feed {feed}: interval {reason}")]
    Interval { feed: String, reason: String },
    #[error("feed {feed}: api_key {reason}")]
    ApiKey { feed: String, reason: String },
}

/// Everything wrong with a list of sources (never empty).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
pub struct SourceErrors(pub Vec<SourceError>);

/// Check every source and the list as a whole: names unique, non-empty and
/// `[a-z0-9-]`; URLs `http(s)://` with a host and no credentials (they would
/// end up in logs; use `api_key`); intervals of at least [`MIN_INTERVAL`];
/// API keys only on `nvd_api` sources (so a key is never sent to a host it
/// was not issued for) and usable as a header value.
pub fn validate_sources(sources: &[FeedSource]) -> Result<(), SourceErrors> {
    let mut errors = Vec::new();
    let mut seen = HashSet::new();
    for (i, s) in sources.iter().enumerate() {
        let label = if s.name.is_empty() {
            format!("#{}", i + 1)
        } else {
            format!("'{}'", s.name)
        };
        if let Err(reason) = check_name(&s.name) {
            errors.push(SourceError::Name {
                feed: label.clone(),
                reason,
            });
        } else if !seen.insert(s.name.as_str()) {
            errors.push(SourceError::Duplicate {
                name: s.name.clone(),
            });
        }
        if let Err(reason) = check_url(&s.url) {
            errors.push(SourceError::Url {
                feed: label.clone(),
                url: s.url.clone(),
                reason,
            });
        }
        if s.interval < MIN_INTERVAL || s.interval > MAX_INTERVAL {
            errors.push(SourceError::Interval {
                feed: label.clone(),
                reason: format!(
                    "{} is outside the accepted range, 5m to 366d",
                    format_interval(s.interval)
                ),
            });
        }
        if let Some(key) = &s.api_key {
            let reason = if s.kind != FeedKind::NvdApi {
                Some("is only sent to nvd_api sources; remove it from this file source")
            } else if key.0.trim().is_empty() {
                Some("is empty; remove it to use the API without a key")
            } else if !key.0.bytes().all(|b| b.is_ascii_graphic()) {
                Some("may contain only visible ASCII characters (no spaces)")
            } else {
                None
            };
            if let Some(reason) = reason {
                errors.push(SourceError::ApiKey {
                    feed: label.clone(),
                    reason: reason.into(),
                });
            }
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(SourceErrors(errors))
    }
}

fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("is empty".into());
    }
    if name.len() > 64 {
        return Err("is longer than 64 characters".into());
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(format!(
            "'{name}' may contain only lower-case letters, digits and '-'"
        ));
    }
    Ok(())
}

fn check_url(url: &str) -> Result<(), String> {
    let parsed = reqwest::Url::parse(url).map_err(|e| format!("is not a URL: {e}"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("must start with http:// or https://".into());
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("has no host".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("must not contain credentials (they would appear in logs)".into());
    }
    Ok(())
}

/// Parse `"90s"`, `"30m"`, `"6h"`, `"1d"` (one number, one unit).
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let unit_secs: u64 = match unit.trim() {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => {
            return Err(format!(
                "'{text}' is not a duration: write a number and a unit, such as \"30m\", \"6h\" or \"1d\""
            ));
        }
    };
    let n: u64 = number
        .parse()
        .map_err(|_| format!("'{text}' does not start with a whole number"))?;
    n.checked_mul(unit_secs)
        .map(Duration::from_secs)
        .ok_or_else(|| format!("'{text}' is too long"))
}

/// The shortest exact spelling of `d` in the units [`parse_interval`] reads.
pub fn format_interval(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => "0s".into(),
        _ if s.is_multiple_of(86_400) => format!("{}d", s / 86_400),
        _ if s.is_multiple_of(3600) => format!("{}h", s / 3600),
        _ if s.is_multiple_of(60) => format!("{}m", s / 60),
        _ => format!("{s}s"),
    }
}

mod interval_text {
    use super::*;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format_interval(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        parse_interval(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(name: &str, kind: FeedKind, url: &str, minutes: u64) -> FeedSource {
        FeedSource {
            name: name.into(),
            kind,
            url: url.into(),
            interval: Duration::from_secs(minutes * 60),
            api_key: None,
        }
    }

    #[test]
    fn intervals_read_and_write_in_one_unit() {
        assert_eq!(parse_interval("30m"), Ok(Duration::from_secs(1800)));
        assert_eq!(parse_interval(" 6h "), Ok(Duration::from_secs(21_600)));
        assert_eq!(parse_interval("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_interval("90s"), Ok(Duration::from_secs(90)));
        for bad in ["", "6", "h", "1.5h", "-1h", "6 hours", "1h30m"] {
            assert!(parse_interval(bad).is_err(), "{bad}");
        }
        for d in [90, 1800, 5400, 21_600, 86_400, 172_800] {
            let d = Duration::from_secs(d);
            assert_eq!(parse_interval(&format_interval(d)), Ok(d));
        }
        assert_eq!(format_interval(Duration::from_secs(5400)), "90m");
    }

    #[test]
    fn sources_deserialise_from_configuration() {
        let json = r#"[
            {"name": "cisa-kev", "kind": "file", "url": "https://www.cisa.gov/kev.json", "interval": "1h"},
            {"name": "nvd", "kind": "nvd_api", "url": "https://services.nvd.nist.gov/rest/json/cves/2.0",
             "interval": "2h", "api_key": "0123-abcd"}
        ]"#;
        let parsed: Vec<FeedSource> = serde_json::from_str(json).unwrap_or_default();
        assert_eq!(parsed.len(), 2);
        assert_eq!(parsed[1].kind, FeedKind::NvdApi);
        assert_eq!(parsed[1].interval, Duration::from_secs(7200));
        assert_eq!(
            parsed[1].api_key.as_ref().map(ApiKey::expose),
            Some("0123-abcd")
        );
        assert!(!format!("{:?}", parsed[1]).contains("0123-abcd"));
        let sources = FeedSources::new(parsed);
        assert_eq!(sources.map(|s| s.len()), Ok(2));

        for bad in [
            r#"{"name": "x", "kind": "ftp", "url": "https://a.example/", "interval": "1h"}"#,
            r#"{"name": "x", "kind": "file", "url": "https://a.example/", "interval": 3600}"#,
            r#"{"name": "x", "kind": "file", "url": "https://a.example/", "interval": "1h", "extra": 1}"#,
        ] {
            assert!(serde_json::from_str::<FeedSource>(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_problem_is_named() {
        let mut keyed_file = source("kev", FeedKind::File, "https://a.example/kev.json", 60);
        keyed_file.api_key = Some(ApiKey::new("k"));
        let mut spaced_key = source("nvd", FeedKind::NvdApi, NVD_API_URL, 120);
        spaced_key.api_key = Some(ApiKey::new("a b"));
        let list = vec![
            source("", FeedKind::File, "https://a.example/", 60),
            source("Bad_Name", FeedKind::File, "ftp://a.example/x", 60),
            source("epss", FeedKind::File, "https://user:pw@a.example/", 4),
            source("epss", FeedKind::File, "not a url", 60),
            keyed_file,
            spaced_key,
        ];
        let Err(SourceErrors(errors)) = validate_sources(&list) else {
            unreachable!("the list is invalid")
        };
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            [
                "feed #1: name is empty",
                "feed 'Bad_Name': name 'Bad_Name' may contain only lower-case letters, digits and '-'",
                "feed 'Bad_Name': url 'ftp://a.example/x' must start with http:// or https://",
                "feed 'epss': url 'https://user:pw@a.example/' must not contain credentials (they would appear in logs)",
                "feed 'epss': interval 4m is outside the accepted range, 5m to 366d",
                "feed 'epss' is configured more than once; names must be unique",
                "feed 'epss': url 'not a url' is not a URL: relative URL without a base",
                "feed 'kev': api_key is only sent to nvd_api sources; remove it from this file source",
                "feed 'nvd': api_key may contain only visible ASCII characters (no spaces)",
            ]
        );
        assert!(
            validate_sources(&[
                source("cisa-kev", FeedKind::File, "https://a.example/kev.json", 5),
                source("nvd-2", FeedKind::NvdApi, "http://127.0.0.1:8080/nvd", 120),
            ])
            .is_ok()
        );
    }
}

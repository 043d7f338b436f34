//! Indicators of compromise as STIX patterns (STIX 2.1 §9, the STIX Patterning
//! language): one comparison per indicator, such as
//! `[ipv4-addr:value = '203.0.113.7']` or `[file:hashes.'SHA-256' = '…']`.

use serde::{Deserialize, Serialize};

/// The kinds of indicator a member can report with an incident.
///
/// The value itself is validated where it is entered; here it is only written
/// into a pattern, escaped so that no value can break out of its quotes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndicatorKind {
    Ipv4,
    Ipv6,
    Domain,
    Url,
    Email,
    Md5,
    Sha1,
    Sha256,
}

impl IndicatorKind {
    pub const ALL: [IndicatorKind; 8] = [
        IndicatorKind::Ipv4,
        IndicatorKind::Ipv6,
        IndicatorKind::Domain,
        IndicatorKind::Url,
        IndicatorKind::Email,
        IndicatorKind::Md5,
        IndicatorKind::Sha1,
        IndicatorKind::Sha256,
    ];

    /// The stored form (`ipv4`, `sha256`, …), also used in derived ids.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Ipv4 => "ipv4",
            IndicatorKind::Ipv6 => "ipv6",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Url => "url",
            IndicatorKind::Email => "email",
            IndicatorKind::Md5 => "md5",
            IndicatorKind::Sha1 => "sha1",
            IndicatorKind::Sha256 => "sha256",
        }
    }

    /// The STIX object path the pattern compares. Hash algorithm names are
    /// those of the STIX `hash-algorithm-ov` vocabulary (`SHA-256`, not
    /// `SHA256`), quoted because they contain a hyphen.
    pub fn object_path(self) -> &'static str {
        match self {
            IndicatorKind::Ipv4 => "ipv4-addr:value",
            IndicatorKind::Ipv6 => "ipv6-addr:value",
            IndicatorKind::Domain => "domain-name:value",
            IndicatorKind::Url => "url:value",
            IndicatorKind::Email => "email-addr:value",
            IndicatorKind::Md5 => "file:hashes.MD5",
            IndicatorKind::Sha1 => "file:hashes.'SHA-1'",
            IndicatorKind::Sha256 => "file:hashes.'SHA-256'",
        }
    }

    /// What the value is, in words: `IPv4 address`, `SHA-256 file hash`.
    pub fn describe(self) -> &'static str {
        match self {
            IndicatorKind::Ipv4 => "IPv4 address",
            IndicatorKind::Ipv6 => "IPv6 address",
            IndicatorKind::Domain => "Domain name",
            IndicatorKind::Url => "URL",
            IndicatorKind::Email => "Email address",
            IndicatorKind::Md5 => "MD5 file hash",
            IndicatorKind::Sha1 => "SHA-1 file hash",
            IndicatorKind::Sha256 => "SHA-256 file hash",
        }
    }

    /// The STIX pattern matching `value`: `[url:value = 'http://x/it\'s']`.
    pub fn pattern(self, value: &str) -> String {
        format!(
            "[{} = '{}']",
            self.object_path(),
            escape_string_literal(value)
        )
    }
}

/// Escapes a value for a STIX pattern string literal. The grammar allows only
/// two escapes inside `'…'`: `\'` and `\\`; every other character stands for
/// itself.
pub fn escape_string_literal(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_compares_the_right_property() {
        let cases = [
            (
                IndicatorKind::Ipv4,
                "203.0.113.7",
                "[ipv4-addr:value = '203.0.113.7']",
            ),
            (
                IndicatorKind::Ipv6,
                "2001:db8::7",
                "[ipv6-addr:value = '2001:db8::7']",
            ),
            (
                IndicatorKind::Domain,
                "evil.example",
                "[domain-name:value = 'evil.example']",
            ),
            (
                IndicatorKind::Url,
                "https://evil.example/a?b=c",
                "[url:value = 'https://evil.example/a?b=c']",
            ),
            (
                IndicatorKind::Email,
                "ceo@evil.example",
                "[email-addr:value = 'ceo@evil.example']",
            ),
            (
                IndicatorKind::Md5,
                "d41d8cd98f00b204e9800998ecf8427e",
                "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e']",
            ),
            (
                IndicatorKind::Sha1,
                "da39a3ee5e6b4b0d3255bfef95601890afd80709",
                "[file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']",
            ),
            (
                IndicatorKind::Sha256,
                "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "[file:hashes.'SHA-256' = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855']",
            ),
        ];
        for (kind, value, want) in cases {
            assert_eq!(kind.pattern(value), want);
        }
    }

    #[test]
    fn quotes_and_backslashes_cannot_break_out_of_the_literal() {
        assert_eq!(
            IndicatorKind::Url.pattern("http://evil.example/it's"),
            r"[url:value = 'http://evil.example/it\'s']"
        );
        assert_eq!(
            IndicatorKind::Url.pattern(r"http://evil.example/a\b"),
            r"[url:value = 'http://evil.example/a\\b']"
        );
        // An attempt to close the literal and add a comparison stays one literal.
        assert_eq!(
            IndicatorKind::Domain.pattern(r"x' OR domain-name:value = 'y\"),
            r"[domain-name:value = 'x\' OR domain-name:value = \'y\\']"
        );
        assert_eq!(escape_string_literal(r"\'"), r"\\\'");
        assert_eq!(escape_string_literal("plain ünïcode"), "plain ünïcode");
    }

    #[test]
    fn every_kind_has_a_distinct_stored_form() {
        let mut names: Vec<_> = IndicatorKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), IndicatorKind::ALL.len());
        for k in IndicatorKind::ALL {
            let json = serde_json::to_string(&k).unwrap();
            assert_eq!(json, format!("\"{}\"", k.as_str()));
        }
    }
}

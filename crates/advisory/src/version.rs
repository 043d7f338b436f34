//! Version comparison that survives real-world versions: `2019`,
//! `1.2.3-beta`, `10.0.17763.1`, `8.5.1 build 3`, `R80.40`, `v2.4.58`,
//! `1.0.2k`, `14.0.5.45`, `2.0-rc1`.
//!
//! A version is split into tokens (runs of digits, runs of letters; anything
//! else separates) and compared token by token over this order, which makes
//! it a total order that agrees with equality:
//!
//! `pre-release word` < *end of version* < `other letters` < `number`
//!
//! - Pre-release words (`dev`, `snapshot`, `alpha`, `beta`, `milestone`,
//!   `pre`, `preview`, `rc`, `cr`) rank in that order, below the release:
//!   `1.2.3-beta` < `1.2.3`.
//! - Other letters are post-release markers: `1.0.2k` > `1.0.2`,
//!   `8.5.1 build 3` > `8.5.1`; but any number beats them:
//!   `8.5.1 build 3` < `8.5.2`.
//! - Release words (`final`, `ga`, `release`, `stable`) are ignored, as is a
//!   leading `v` before a digit.
//! - Zeros before a letter or the end do not count: `1.0` = `1` = `1.0.0`,
//!   `0` = empty,
//!   `2.0-rc1` = `2.0.0-rc1`. Numbers compare by value at any length.
//! - Letters compare case-insensitively.

use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    /// Pre-release word with its rank.
    Pre(u8, String),
    /// Letters that mark a later build or patch.
    Other(String),
    /// A number that fits in 64 bits (almost all of them).
    Small(u64),
    /// Digits with leading zeros removed, when more than 19 of them: always
    /// larger than any `Small`.
    Big(String),
}

impl Token {
    /// Position of the token's kind in the order; `End` sits at 1.
    fn class(&self) -> u8 {
        match self {
            Token::Pre(..) => 0,
            Token::Other(_) => 2,
            Token::Small(_) | Token::Big(_) => 3,
        }
    }

    fn is_number(&self) -> bool {
        matches!(self, Token::Small(_) | Token::Big(_))
    }

    fn is_zero(&self) -> bool {
        matches!(self, Token::Small(0))
    }

    /// Digits (leading zeros already stripped) as a token.
    fn number(digits: &str) -> Token {
        if digits.len() <= 19 {
            Token::Small(digits.parse().unwrap_or(0))
        } else {
            Token::Big(digits.to_string())
        }
    }
}

const END_CLASS: u8 = 1;

fn cmp_tokens(a: Option<&Token>, b: Option<&Token>) -> Ordering {
    let class = |t: Option<&Token>| t.map_or(END_CLASS, Token::class);
    match (a, b) {
        (Some(Token::Small(x)), Some(Token::Small(y))) => x.cmp(y),
        (Some(Token::Small(_)), Some(Token::Big(_))) => Ordering::Less,
        (Some(Token::Big(_)), Some(Token::Small(_))) => Ordering::Greater,
        (Some(Token::Big(x)), Some(Token::Big(y))) => x.len().cmp(&y.len()).then_with(|| x.cmp(y)),
        (Some(Token::Pre(rx, x)), Some(Token::Pre(ry, y))) => rx.cmp(ry).then_with(|| x.cmp(y)),
        (Some(Token::Other(x)), Some(Token::Other(y))) => x.cmp(y),
        _ => class(a).cmp(&class(b)),
    }
}

fn pre_rank(word: &str) -> Option<u8> {
    Some(match word {
        "dev" | "snapshot" => 0,
        "alpha" => 1,
        "beta" => 2,
        "milestone" => 3,
        "pre" | "preview" => 4,
        "rc" | "cr" => 5,
        _ => return None,
    })
}

/// A version as a source or an inventory states it, with its comparison key.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "String", into = "String")]
pub struct Version {
    raw: String,
    #[serde(skip)]
    tokens: Vec<Token>,
}

impl From<String> for Version {
    fn from(s: String) -> Self {
        Version::parse(&s)
    }
}

impl From<Version> for String {
    fn from(v: Version) -> Self {
        v.raw
    }
}

impl Version {
    /// Read any string as a version; never fails (an empty string is the
    /// lowest release, equal to `0`).
    pub fn parse(raw: &str) -> Version {
        let lower = raw.trim().to_lowercase();
        let mut tokens = Vec::new();
        let mut chars = lower.char_indices().peekable();
        while let Some(&(start, c)) = chars.peek() {
            if c.is_ascii_digit() {
                let mut end = start;
                while let Some(&(i, d)) = chars.peek() {
                    if !d.is_ascii_digit() {
                        break;
                    }
                    end = i + d.len_utf8();
                    chars.next();
                }
                let digits = lower.get(start..end).unwrap_or("").trim_start_matches('0');
                tokens.push(Token::number(digits));
            } else if c.is_alphabetic() {
                let mut end = start;
                while let Some(&(i, d)) = chars.peek() {
                    if !d.is_alphabetic() {
                        break;
                    }
                    end = i + d.len_utf8();
                    chars.next();
                }
                let word = lower.get(start..end).unwrap_or("");
                let next_is_digit = chars.peek().is_some_and(|&(_, d)| d.is_ascii_digit());
                if tokens.is_empty() && word == "v" && next_is_digit {
                    continue;
                }
                if matches!(word, "final" | "ga" | "release" | "stable") {
                    continue;
                }
                tokens.push(match pre_rank(word) {
                    Some(rank) => Token::Pre(rank, word.to_string()),
                    None => Token::Other(word.to_string()),
                });
            } else {
                chars.next();
            }
        }
        Version {
            raw: raw.to_string(),
            tokens: canonical(tokens),
        }
    }

    /// `None` for the placeholders sources use for "no version":
    /// empty, `*`, `-`, `n/a`, `unspecified`, `unknown`, `all`.
    pub fn parse_known(raw: &str) -> Option<Version> {
        (!is_placeholder(raw)).then(|| Version::parse(raw))
    }

    /// The version exactly as it was written.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Whether the version names a pre-release (`rc`, `beta`…).
    pub fn is_prerelease(&self) -> bool {
        self.tokens.iter().any(|t| matches!(t, Token::Pre(..)))
    }
}

/// Drop runs of zeros that follow a number (or open the version) and precede
/// a letter or the end.
fn canonical(tokens: Vec<Token>) -> Vec<Token> {
    let mut out: Vec<Token> = Vec::with_capacity(tokens.len());
    let mut i = 0;
    while i < tokens.len() {
        let Some(t) = tokens.get(i) else { break };
        if t.is_zero() && out.last().is_none_or(Token::is_number) {
            let mut j = i;
            while tokens.get(j).is_some_and(Token::is_zero) {
                j += 1;
            }
            if !tokens.get(j).is_some_and(Token::is_number) {
                i = j;
                continue;
            }
        }
        out.push(t.clone());
        i += 1;
    }
    out
}

impl Ord for Version {
    fn cmp(&self, other: &Self) -> Ordering {
        let n = self.tokens.len().max(other.tokens.len());
        for i in 0..n {
            let o = cmp_tokens(self.tokens.get(i), other.tokens.get(i));
            if o != Ordering::Equal {
                return o;
            }
        }
        Ordering::Equal
    }
}

impl PartialOrd for Version {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Version {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Version {}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

/// Whether a string is one of the placeholders sources use for "no
/// version" (see [`Version::parse_known`]). Allocation-free: range checks
/// ask it for every bound.
pub fn is_placeholder(raw: &str) -> bool {
    let t = raw.trim();
    ["", "*", "-", "n/a", "na", "unspecified", "unknown", "all"]
        .iter()
        .any(|p| t.eq_ignore_ascii_case(p))
}

/// Compare two version strings.
pub fn compare(a: &str, b: &str) -> Ordering {
    Version::parse(a).cmp(&Version::parse(b))
}

/// Bounds as NVD states them (any combination of the four may be present).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Range<'a> {
    pub start_including: Option<&'a str>,
    pub start_excluding: Option<&'a str>,
    pub end_including: Option<&'a str>,
    pub end_excluding: Option<&'a str>,
}

impl Range<'_> {
    /// Whether `version` lies within every bound given. Placeholder bounds
    /// (`*`, `-`, empty) are ignored as NVD intends.
    pub fn contains(&self, version: &Version) -> bool {
        let bound = |b: Option<&str>| b.and_then(Version::parse_known);
        bound(self.start_including).is_none_or(|s| *version >= s)
            && bound(self.start_excluding).is_none_or(|s| *version > s)
            && bound(self.end_including).is_none_or(|e| *version <= e)
            && bound(self.end_excluding).is_none_or(|e| *version < e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn lt(a: &str, b: &str) {
        assert_eq!(compare(a, b), Ordering::Less, "{a} < {b}");
        assert_eq!(compare(b, a), Ordering::Greater, "{b} > {a}");
    }

    fn eq(a: &str, b: &str) {
        assert_eq!(compare(a, b), Ordering::Equal, "{a} = {b}");
    }

    #[test]
    fn real_world_orderings() {
        lt("1.2.3-beta", "1.2.3");
        lt("1.2.3-alpha", "1.2.3-beta");
        lt("1.2.3-beta.2", "1.2.3-rc1");
        lt("1.2.3-rc1", "1.2.3-rc2");
        lt("1.2.3", "1.2.4");
        lt("1.2.9", "1.2.10");
        lt("10.0.17763.1", "10.0.17763.2");
        lt("10.0.17763.9999", "10.0.19041.1");
        lt("8.5.1", "8.5.1 build 3");
        lt("8.5.1 build 3", "8.5.1 build 12");
        lt("8.5.1 build 12", "8.5.2");
        lt("R80.40", "R80.40.1");
        lt("R80.40", "R81");
        lt("R81", "R81.10");
        lt("2018", "2019");
        lt("1.0.2", "1.0.2k");
        lt("1.0.2k", "1.0.2l");
        lt("1.0.2zz", "1.0.3");
        lt("2.0-rc1", "2.0");
        lt("4.1.0-SNAPSHOT", "4.1.0");
        lt("14.0.5.45", "14.1.0.0");
        lt("99999999999999999999", "100000000000000000000");
        eq("1.0", "1");
        eq("1.0.0", "1");
        eq("v2.4.58", "2.4.58");
        eq("2.0-rc1", "2.0.0-RC1");
        eq("1.0.0-final", "1.0");
        eq("007", "7");
        eq("", "0");
    }

    #[test]
    fn placeholders_are_not_versions() {
        for p in ["*", "-", "", " n/a ", "unspecified"] {
            assert!(Version::parse_known(p).is_none(), "{p:?}");
        }
        assert!(Version::parse_known("0").is_some());
        assert!(Version::parse("2.0-rc1").is_prerelease());
        assert_eq!(Version::parse(" V1.2 ").to_string(), " V1.2 ");
    }

    #[test]
    fn nvd_bounds() {
        let r = Range {
            start_including: Some("2.0-beta9"),
            end_excluding: Some("2.3.1"),
            ..Range::default()
        };
        assert!(r.contains(&Version::parse("2.0-beta9")));
        assert!(r.contains(&Version::parse("2.3.0")));
        assert!(!r.contains(&Version::parse("2.3.1")));
        assert!(!r.contains(&Version::parse("2.0-alpha1")));
        let r = Range {
            start_excluding: Some("1.0"),
            end_including: Some("1.5"),
            ..Range::default()
        };
        assert!(!r.contains(&Version::parse("1.0")));
        assert!(r.contains(&Version::parse("1.5")));
        assert!(!r.contains(&Version::parse("1.5.1")));
        assert!(
            Range {
                end_excluding: Some("*"),
                ..Range::default()
            }
            .contains(&Version::parse("9"))
        );
    }

    fn version_text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                "[0-9]{1,3}",
                Just("0".to_string()),
                prop_oneof![
                    Just("rc"),
                    Just("beta"),
                    Just("alpha"),
                    Just("build"),
                    Just("p"),
                    Just("k"),
                    Just("final"),
                    Just("v")
                ]
                .prop_map(str::to_string),
                "[a-zA-Z]{1,3}",
            ],
            0..6,
        )
        .prop_flat_map(|parts| {
            let n = parts.len();
            (
                Just(parts),
                proptest::collection::vec(
                    prop_oneof![Just("."), Just("-"), Just(""), Just(" "), Just("_")],
                    n,
                ),
            )
        })
        .prop_map(|(parts, seps)| {
            parts
                .iter()
                .zip(seps)
                .map(|(p, s)| format!("{p}{s}"))
                .collect()
        })
    }

    proptest! {
        #[test]
        fn a_total_order_that_agrees_with_itself(a in version_text(), b in version_text(), c in version_text()) {
            let (va, vb, vc) = (Version::parse(&a), Version::parse(&b), Version::parse(&c));
            prop_assert_eq!(va.cmp(&vb), vb.cmp(&va).reverse());
            prop_assert_eq!(va.cmp(&va), Ordering::Equal);
            prop_assert_eq!(va == vb, va.cmp(&vb) == Ordering::Equal);
            if va <= vb && vb <= vc {
                prop_assert!(va <= vc, "{} <= {} <= {} but not {} <= {}", a, b, c, a, c);
            }
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,40}") {
            let v = Version::parse(&s);
            prop_assert_eq!(v.as_str(), s.as_str());
        }
    }
}

//! Plain vendor/product text to ranked CPE suggestions.
//!
//! A security officer types what they run — vendor "Microsoft", product
//! "Exchange Server 2019", or just "FortiGate" — and confirms one of the
//! CPE vendor:product pairs the advisory corpus actually uses
//! (`microsoft:exchange_server`, `fortinet:fortios`). The store supplies the
//! candidate pairs, with how many advisories name each (it may prefilter them
//! with SQL `LIKE` on [`tokens`]); [`suggest`] only ranks. Pure: no I/O.
//!
//! # Reading the query
//!
//! Text is lower-cased and split into words on anything but letters, digits,
//! `.`, `-` and `_`; words are split into tokens on anything but letters and
//! digits. Company boilerplate ("Inc", "Ltd", "Corporation", "Systems",
//! "Software", …) and filler ("the", "for", "version", …) are dropped; "server"
//! is kept, because it tells `exchange_server` from `exchange_online`.
//!
//! The first version-like word of the product text (`9.0.80`, `2019`, `v7.2`,
//! `21H2` — a number, or digits with dots, or digits-letters-digits) starts
//! the *version run*, which goes on while words hold a digit or are release
//! words (`CU12`, `SP1`, `R2`, `build 3`, `cumulative update 23`). The run is
//! not used as product tokens: it becomes the version. So "Exchange Server
//! 2019 CU12" gives the version "2019 CU12", written into the CPE as
//! `2019_cu12` (spaces become `_`, as everywhere else in this crate). The
//! exception is a candidate whose product name genuinely contains the leading
//! run words as tokens: for "Windows Server 2019", `windows_server_2019`
//! takes "2019" into the product (and the version stays `*`); for "Windows
//! Server 2012 R2", `windows_server_2012` takes "2012" and the version is
//! `r2`, as NVD writes it. A `Query::version` given separately always wins
//! for the CPE; version words in the product text are then still not product
//! tokens. A leading `v` before a digit is dropped (`v7.2` → `7.2`).
//!
//! # Ranking
//!
//! Query tokens (and runs of up to three, joined: "palo alto" →
//! `paloaltonetworks`, "pan os" → `pan-os`) are paired with candidate tokens
//! (and joined runs of up to three). A pair is exact (1.0), an alias from the
//! small tables below ("MS" → `microsoft`, "ADC" → application delivery
//! controller, "FortiGate" → `fortios`), a prefix of a single candidate token
//! (at least three characters; 0.55–0.9, more for a longer prefix; a vendor
//! named in the product text must be named in full), or a typo
//! (one insertion, deletion, substitution or swap of adjacent characters,
//! both tokens at least five characters; 0.75). Pairs are taken best first,
//! each query token and each product token once; product text may also name
//! the vendor ("Apache Tomcat").
//!
//! The product score weighs how much of what was typed is explained (55%),
//! how much of the candidate's product name was typed (35%; "server",
//! "firmware" and "os" count a third as much) and whether the words come in
//! the candidate's order (10%). A given vendor counts 35% against the
//! product's 65%, and a candidate whose vendor does not match the one given
//! has its score halved — it still appears, below the right vendor's. Without
//! a vendor, naming the candidate's vendor in the product text adds 15%.
//! A candidate whose product name holds a number the query's version run
//! does not (`windows_server_2016` for "Windows Server 2019") loses 15%.
//! Each version word the candidate leaves as version costs 4% (at most two),
//! so a product named for the version wins where the words otherwise tie, and
//! popularity — the advisory count on a log scale — moves a score by at most
//! 3%, so near-ties go to the name the corpus actually uses. Ties in the
//! (rounded) score fall to more advisories, then vendor, product and part in
//! ascending order. Queries naming only a vendor list that vendor's products
//! by advisory count (scores up to 0.3); a candidate that meets none of the
//! product words typed scores at most 0.1; queries with no usable word give
//! nothing.
//!
//! Work is bounded whatever the input: at most [`MAX_INPUT_CHARS`] characters
//! of each field, [`MAX_TOKENS`] tokens per field, [`MAX_TOKEN_LEN`]
//! characters per token, and a dozen tokens per candidate name; the rest is
//! linear in the number of candidates.

use openwarp_advisory::cpe::{AttrValue, Wfn};

/// Characters read from any one field of a query; the rest is ignored.
pub const MAX_INPUT_CHARS: usize = 256;
/// Tokens taken from any one field of a query.
pub const MAX_TOKENS: usize = 12;
/// Longest token kept: a longer run of letters and digits is junk, not a name.
pub const MAX_TOKEN_LEN: usize = 40;

/// Words in a version run ("2019 CU12" is two).
const MAX_VERSION_WORDS: usize = 6;
/// Tokens read from a candidate's vendor or product name.
const MAX_NAME_TOKENS: usize = 12;
/// Longest run of tokens joined for comparison.
const MAX_SPAN: usize = 3;
/// Suggestions scoring below this are noise.
const MIN_SCORE: f64 = 0.05;

/// A vendor:product pair seen in the advisory corpus.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// CPE part — `a`, `o` or `h` — when known.
    pub part: Option<char>,
    /// The CPE vendor as NVD writes it, unquoted (`paloaltonetworks`).
    pub vendor: String,
    /// The CPE product as NVD writes it, unquoted (`pan-os`, `notepad++`).
    pub product: String,
    /// How many advisories name the pair.
    pub advisories: u32,
}

/// One ranked suggestion for the user to confirm.
#[derive(Debug, Clone, PartialEq)]
pub struct Suggestion {
    pub vendor: String,
    pub product: String,
    pub part: Option<char>,
    /// `cpe:2.3:<part or a>:<vendor>:<product>:<version or *>:*:*:*:*:*:*:*`,
    /// every value quoted as a CPE 2.3 formatted string requires.
    pub cpe: String,
    /// 0 to 1; higher is better. Comparable within one call only.
    pub score: f64,
    /// Why, in words: "vendor and product match; named in 412 advisories".
    pub why: String,
}

/// What the user typed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Query<'a> {
    pub vendor: Option<&'a str>,
    pub product: &'a str,
    pub version: Option<&'a str>,
}

/// Words that say nothing about which product is meant: company boilerplate
/// and filler. Dropped from queries; ignored in candidate names.
const STOPWORDS: &[&str] = &[
    "a",
    "ag",
    "an",
    "and",
    "bv",
    "by",
    "co",
    "company",
    "corp",
    "corporation",
    "for",
    "foundation",
    "gmbh",
    "group",
    "holdings",
    "in",
    "inc",
    "incorporated",
    "international",
    "limited",
    "llc",
    "llp",
    "ltd",
    "networks",
    "nv",
    "of",
    "on",
    "plc",
    "sa",
    "software",
    "solutions",
    "srl",
    "systems",
    "technologies",
    "technology",
    "the",
    "to",
    "ver",
    "version",
    "with",
];

/// Candidate product tokens that are part of many names and so say little:
/// they count a third as much when measuring how much of a name was typed.
const GENERIC: &[&str] = &["firmware", "os", "server"];

/// Words that continue a version run without holding a digit.
const RELEASE_WORDS: &[&str] = &[
    "alpha",
    "beta",
    "build",
    "cu",
    "cumulative",
    "esr",
    "final",
    "fp",
    "ga",
    "hf",
    "hotfix",
    "lts",
    "pack",
    "patch",
    "preview",
    "rc",
    "release",
    "rev",
    "revision",
    "service",
    "sp",
    "update",
];

/// What a vendor is called against the names NVD uses, with how sure the
/// reading is (1.0: the same company; less: a predecessor or successor).
/// Keys are query tokens joined without spaces.
struct VendorAlias {
    key: &'static str,
    vendors: &'static [(&'static str, f64)],
}

const VENDOR_ALIASES: &[VendorAlias] = &[
    VendorAlias {
        key: "ms",
        vendors: &[("microsoft", 1.0)],
    },
    VendorAlias {
        key: "msft",
        vendors: &[("microsoft", 1.0)],
    },
    VendorAlias {
        key: "paloalto",
        vendors: &[("paloaltonetworks", 1.0)],
    },
    VendorAlias {
        key: "pulsesecure",
        vendors: &[("ivanti", 0.8)],
    },
    VendorAlias {
        key: "ivanti",
        vendors: &[("pulsesecure", 0.8), ("mobileiron", 0.8)],
    },
    VendorAlias {
        key: "mobileiron",
        vendors: &[("ivanti", 0.8)],
    },
    VendorAlias {
        key: "ipswitch",
        vendors: &[("progress", 0.8)],
    },
    VendorAlias {
        key: "progress",
        vendors: &[("ipswitch", 0.8)],
    },
    VendorAlias {
        key: "broadcom",
        vendors: &[("vmware", 0.9)],
    },
    VendorAlias {
        key: "netscaler",
        vendors: &[("citrix", 0.9)],
    },
    VendorAlias {
        key: "hewlettpackardenterprise",
        vendors: &[("hpe", 1.0)],
    },
    VendorAlias {
        key: "hewlettpackard",
        vendors: &[("hp", 1.0)],
    },
    VendorAlias {
        key: "zoho",
        vendors: &[("zohocorp", 1.0)],
    },
    VendorAlias {
        key: "manageengine",
        vendors: &[("zohocorp", 0.9)],
    },
    VendorAlias {
        key: "trellix",
        vendors: &[("mcafee", 0.8)],
    },
    VendorAlias {
        key: "mcafee",
        vendors: &[("trellix", 0.8)],
    },
];

/// Product abbreviations and brand names against the words NVD uses; every
/// word must be in the candidate's product name. Keys are query tokens joined
/// without spaces.
struct ProductAlias {
    key: &'static str,
    reads: &'static [&'static str],
    quality: f64,
}

const PRODUCT_ALIASES: &[ProductAlias] = &[
    ProductAlias {
        key: "adc",
        reads: &["application", "delivery", "controller"],
        quality: 0.95,
    },
    ProductAlias {
        key: "asa",
        reads: &["adaptive", "security", "appliance"],
        quality: 0.95,
    },
    ProductAlias {
        key: "ftd",
        reads: &["firepower", "threat", "defense"],
        quality: 0.95,
    },
    ProductAlias {
        key: "iis",
        reads: &["internet", "information", "services"],
        quality: 0.95,
    },
    ProductAlias {
        key: "epmm",
        reads: &["endpoint", "manager", "mobile"],
        quality: 0.95,
    },
    ProductAlias {
        key: "mobileironcore",
        reads: &["endpoint", "manager", "mobile"],
        quality: 0.9,
    },
    ProductAlias {
        key: "ics",
        reads: &["connect", "secure"],
        quality: 0.9,
    },
    ProductAlias {
        key: "sccm",
        reads: &["endpoint", "configuration", "manager"],
        quality: 0.9,
    },
    ProductAlias {
        key: "esx",
        reads: &["esxi"],
        quality: 0.95,
    },
    ProductAlias {
        key: "vcsa",
        reads: &["vcenter", "server"],
        quality: 0.95,
    },
    ProductAlias {
        key: "httpd",
        reads: &["http", "server"],
        quality: 0.95,
    },
    // A FortiGate runs FortiOS, and NVD names FortiOS: as good as exact, so
    // the advisory count decides between them.
    ProductAlias {
        key: "fortigate",
        reads: &["fortios"],
        quality: 1.0,
    },
];

fn vendor_aliases(key: &str) -> &'static [(&'static str, f64)] {
    VENDOR_ALIASES
        .iter()
        .find(|a| a.key == key)
        .map_or(&[], |a| a.vendors)
}

fn product_alias(key: &str) -> Option<&'static ProductAlias> {
    PRODUCT_ALIASES.iter().find(|a| a.key == key)
}

// ---------------------------------------------------------------------------
// Reading text.

/// A word of the version run, as typed and as tokens.
#[derive(Debug, Clone)]
struct VersionWord {
    raw: String,
    tokens: Vec<String>,
}

/// One field of a query, read.
#[derive(Debug, Default)]
struct Reading {
    tokens: Vec<String>,
    version: Vec<VersionWord>,
}

fn is_stopword(token: &str) -> bool {
    STOPWORDS.contains(&token)
}

/// `v7.2` → `7.2`; anything else unchanged.
fn strip_v(word: &str) -> &str {
    match word.strip_prefix(['v', 'V']) {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => rest,
        _ => word,
    }
}

/// `9.0.80`, `2019`, `v7.2`, `21h2`, `10.2.1-h2` — but not `7-zip`, `3cx`, `100f`.
fn is_version_start(word: &str) -> bool {
    let body = strip_v(word);
    if !body.starts_with(|c: char| c.is_ascii_digit()) {
        return false;
    }
    if !body
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'))
    {
        return false;
    }
    body.contains('.')
        || body.chars().all(|c| c.is_ascii_digit())
        || (body.chars().all(|c| c.is_ascii_alphanumeric())
            && body.ends_with(|c: char| c.is_ascii_digit()))
}

/// Whether a word carries a version run on: `CU12`, `R2`, `SP1`, `build`.
fn continues_version(word: &str) -> bool {
    word.chars().any(|c| c.is_ascii_digit())
        || RELEASE_WORDS.contains(&word.to_lowercase().as_str())
}

/// The tokens of one word: lower case, split on anything but letters and
/// digits, without stopwords, lone letters and overlong runs.
fn word_tokens(word: &str) -> Vec<String> {
    word.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty() && t.chars().count() <= MAX_TOKEN_LEN)
        .map(str::to_lowercase)
        .filter(|t| !is_stopword(t))
        .filter(|t| {
            let mut cs = t.chars();
            // A lone letter says nothing; a lone digit may ("7-Zip").
            !matches!((cs.next(), cs.next()), (Some(c), None) if !c.is_ascii_digit())
        })
        .collect()
}

/// Read one field: its tokens and, when `find_version`, its version run.
fn read(text: &str, find_version: bool) -> Reading {
    let clipped: String = text.chars().take(MAX_INPUT_CHARS).collect();
    let words: Vec<&str> = clipped
        .split(|c: char| !(c.is_alphanumeric() || matches!(c, '.' | '-' | '_')))
        .filter(|w| !w.is_empty())
        .collect();
    let start = if find_version {
        words.iter().position(|w| is_version_start(w))
    } else {
        None
    };
    let mut out = Reading::default();
    let mut in_run = false;
    for (i, word) in words.iter().enumerate() {
        if Some(i) == start {
            in_run = true;
        } else if in_run && (out.version.len() >= MAX_VERSION_WORDS || !continues_version(word)) {
            in_run = false;
        }
        if in_run {
            out.version.push(VersionWord {
                raw: (*word).to_string(),
                tokens: word_tokens(word),
            });
            continue;
        }
        for token in word_tokens(word) {
            if out.tokens.len() < MAX_TOKENS {
                out.tokens.push(token);
            }
        }
    }
    out
}

/// The tokens of a CPE vendor or product name (`netscaler_application_delivery_controller`).
fn name_tokens(name: &str) -> Vec<String> {
    name.split(|c: char| !c.is_alphanumeric())
        .filter(|t| !t.is_empty())
        .take(MAX_NAME_TOKENS)
        .map(str::to_lowercase)
        .collect()
}

/// Normalised search tokens of a vendor or product as typed, for the store to
/// prefilter candidates: a candidate is worth ranking when its vendor or its
/// product contains *any* of them (SQL `LIKE '%token%'`, OR-ed).
///
/// Lower case; split on anything but letters and digits (so `_`, `-`, `.`
/// separate); without company boilerplate and filler ("inc", "ltd",
/// "corporation", "systems", "software", "the", "version", …; "server" is
/// kept), lone letters, tokens of digits only, and the version run ("Tomcat
/// 9.0.80" gives `tomcat`), since those match far too much. The readings of
/// known aliases are added ("MS" adds `microsoft`, "ADC" adds `application`,
/// `delivery`, `controller`, "FortiGate" adds `fortios`). At most
/// 2 × [`MAX_TOKENS`] tokens, each unique, in the order found. Typos are not
/// expanded: a store that finds nothing may pass unfiltered candidates.
pub fn tokens(text: &str) -> Vec<String> {
    let reading = read(text, true);
    let mut out: Vec<String> = Vec::new();
    let push = |t: &str, out: &mut Vec<String>| {
        if out.len() < 2 * MAX_TOKENS
            && t.chars().count() >= 2
            && !t.chars().all(|c| c.is_ascii_digit())
            && !out.iter().any(|o| o == t)
        {
            out.push(t.to_string());
        }
    };
    for t in &reading.tokens {
        push(t, &mut out);
    }
    for span in spans(&reading.tokens, 0) {
        for (vendor, _) in vendor_aliases(&span.text) {
            push(vendor, &mut out);
        }
        if let Some(alias) = product_alias(&span.text) {
            for t in alias.reads {
                push(t, &mut out);
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Comparing tokens.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
    Vendor,
    Product,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum How {
    Exact,
    Prefix,
    Typo,
    Alias,
}

/// Whether `a` and `b` are one insertion, deletion, substitution or swap of
/// adjacent characters apart (not equal).
fn one_edit_apart(a: &[u8], b: &[u8]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    match long.len() - short.len() {
        0 => {
            let diffs: Vec<usize> = (0..short.len())
                .filter(|&i| short.get(i) != long.get(i))
                .take(3)
                .collect();
            match diffs.as_slice() {
                [_] => true,
                [i, j] => {
                    *j == i + 1 && short.get(*i) == long.get(*j) && short.get(*j) == long.get(*i)
                }
                _ => false,
            }
        }
        1 => {
            let lead = short.iter().zip(long).take_while(|(x, y)| x == y).count();
            short.get(lead..) == long.get(lead + 1..)
        }
        _ => false,
    }
}

/// How well a query string matches a candidate string, if at all.
/// `prefix`: whether the candidate string is a single token, so that the
/// query may be the start of it.
fn compare(query: &str, cand: &str, prefix: bool) -> Option<(f64, How)> {
    if query == cand {
        return Some((1.0, How::Exact));
    }
    let mut best: Option<(f64, How)> = None;
    if prefix && query.len() >= 3 && cand.starts_with(query) {
        // `len` is bytes; the names that matter are ASCII.
        let share = query.len() as f64 / cand.len() as f64;
        best = Some((0.55 + 0.35 * share, How::Prefix));
    }
    if query.len() >= 5
        && cand.len() >= 5
        && one_edit_apart(query.as_bytes(), cand.as_bytes())
        && best.is_none_or(|(q, _)| q < 0.75)
    {
        best = Some((0.75, How::Typo));
    }
    best
}

fn bit(i: usize) -> u32 {
    u32::try_from(i)
        .ok()
        .and_then(|i| 1u32.checked_shl(i))
        .unwrap_or(0)
}

fn bits(start: usize, len: usize) -> u32 {
    (start..start + len).fold(0, |m, i| m | bit(i))
}

/// A run of up to [`MAX_SPAN`] query tokens, joined.
#[derive(Debug)]
struct QuerySpan {
    start: usize,
    len: usize,
    text: String,
    vendor_side: bool,
}

/// Every run of up to [`MAX_SPAN`] tokens, joined; `offset` is added to the
/// positions.
fn spans(tokens: &[String], offset: usize) -> Vec<QuerySpan> {
    let mut out = Vec::new();
    for start in 0..tokens.len() {
        for len in 1..=MAX_SPAN {
            if let Some(run) = tokens.get(start..start + len) {
                out.push(QuerySpan {
                    start: start + offset,
                    len,
                    text: run.concat(),
                    vendor_side: false,
                });
            }
        }
    }
    out
}

/// A run of up to [`MAX_SPAN`] tokens of a candidate name, joined.
struct NameSpan {
    field: Field,
    mask: u32,
    text: String,
    single: bool,
}

fn name_spans(tokens: &[String], field: Field, skip: u32, out: &mut Vec<NameSpan>) {
    for start in 0..tokens.len() {
        for len in 1..=MAX_SPAN {
            let mask = bits(start, len);
            if mask & skip != 0 {
                break;
            }
            if let Some(run) = tokens.get(start..start + len) {
                out.push(NameSpan {
                    field,
                    mask,
                    text: run.concat(),
                    single: len == 1,
                });
            }
        }
    }
}

/// A query span paired with candidate tokens.
struct Pair {
    span: usize,
    field: Field,
    mask: u32,
    quality: f64,
    how: How,
    /// What the candidate side reads as, for the explanation.
    reads: String,
}

// ---------------------------------------------------------------------------
// Scoring.

/// A query, read once for all candidates.
struct Prepared {
    /// Vendor tokens first, then product tokens.
    tokens: Vec<String>,
    n_vendor: usize,
    spans: Vec<QuerySpan>,
    version: Vec<VersionWord>,
    explicit_version: Option<String>,
}

fn prepare(query: &Query) -> Prepared {
    let vendor = query.vendor.map(|v| read(v, false)).unwrap_or_default();
    let product = read(query.product, true);
    let n_vendor = vendor.tokens.len();
    let mut spans_all: Vec<QuerySpan> = spans(&vendor.tokens, 0)
        .into_iter()
        .map(|s| QuerySpan {
            vendor_side: true,
            ..s
        })
        .collect();
    spans_all.extend(spans(&product.tokens, n_vendor));
    let explicit_version = query
        .version
        .map(|v| v.chars().take(MAX_INPUT_CHARS).collect::<String>())
        .map(|v| v.trim().to_string())
        .filter(|v| !matches!(v.as_str(), "" | "*" | "-"));
    let mut tokens = vendor.tokens;
    tokens.extend(product.tokens);
    Prepared {
        tokens,
        n_vendor,
        spans: spans_all,
        version: product.version,
        explicit_version,
    }
}

/// A CPE value from a candidate name: taken literally, unless it is already
/// quoted (holds a backslash).
fn name_value(name: &str) -> Option<AttrValue> {
    if name.contains('\\') {
        AttrValue::wfn(name).ok()
    } else {
        AttrValue::literal(name).ok()
    }
}

/// A CPE value from a version as typed: spaces become `_`, as in the inventory.
fn version_value(version: &str) -> Option<AttrValue> {
    crate::inventory::cpe_version(version).ok()
}

fn token_weight(token: &str) -> f64 {
    if is_stopword(token) {
        0.0
    } else if GENERIC.contains(&token) {
        0.35
    } else {
        1.0
    }
}

/// The weighted share of `tokens` covered, each at its quality.
fn coverage(tokens: &[String], cover: &[f64]) -> f64 {
    let (mut got, mut all) = (0.0, 0.0);
    for (t, c) in tokens.iter().zip(cover) {
        let w = token_weight(t);
        got += w * c;
        all += w;
    }
    if all > 0.0 { got / all } else { 0.0 }
}

/// A candidate scored, before sorting.
struct Scored {
    suggestion: Suggestion,
    advisories: u32,
}

/// The CPE part of a candidate, when it is one CPE allows.
fn part_of(c: &Candidate) -> Option<char> {
    c.part
        .map(|p| p.to_ascii_lowercase())
        .filter(|p| matches!(p, 'a' | 'o' | 'h'))
}

/// Claim a position in `tokens` for each of `wanted`, each position once and
/// none in `taken`; the positions claimed, or `None` if one is missing.
fn claim<S: AsRef<str>>(tokens: &[String], wanted: &[S], taken: u32) -> Option<u32> {
    let mut mask = taken;
    for w in wanted {
        let j = tokens
            .iter()
            .enumerate()
            .position(|(j, t)| mask & bit(j) == 0 && t == w.as_ref())?;
        mask |= bit(j);
    }
    (mask != taken).then_some(mask & !taken)
}

/// The leading version words that the product name genuinely holds
/// (`2019` for `windows_server_2019`): the positions they take, and the
/// first position of each word.
fn consume_version(version: &[VersionWord], pt: &[String]) -> (u32, Vec<u32>) {
    let mut mask = 0u32;
    let mut firsts = Vec::new();
    for word in version {
        match claim(pt, &word.tokens, mask) {
            Some(got) => {
                mask |= got;
                firsts.push(got.trailing_zeros());
            }
            None => break,
        }
    }
    (mask, firsts)
}

/// Every way a query span meets the candidate's names.
fn pairs_for(p: &Prepared, vt: &[String], pt: &[String], consumed: u32) -> Vec<Pair> {
    let mut names = Vec::new();
    name_spans(vt, Field::Vendor, 0, &mut names);
    name_spans(pt, Field::Product, consumed, &mut names);
    let vendor_compact = vt.concat();
    let mut pairs = Vec::new();
    for (si, span) in p.spans.iter().enumerate() {
        for name in &names {
            if span.vendor_side && name.field == Field::Product {
                continue;
            }
            // Product text names the vendor in full ("Apache Tomcat"); a mere
            // start ("forti") is read against product names only.
            let prefix = name.single && (span.vendor_side || name.field == Field::Product);
            if let Some((quality, how)) = compare(&span.text, &name.text, prefix) {
                pairs.push(Pair {
                    span: si,
                    field: name.field,
                    mask: name.mask,
                    quality,
                    how,
                    reads: name.text.clone(),
                });
            }
        }
        for (vendor, quality) in vendor_aliases(&span.text) {
            if *vendor == vendor_compact && !vt.is_empty() {
                pairs.push(Pair {
                    span: si,
                    field: Field::Vendor,
                    mask: bits(0, vt.len()),
                    quality: *quality,
                    how: How::Alias,
                    reads: (*vendor).to_string(),
                });
            }
        }
        let alias = product_alias(&span.text).filter(|_| !span.vendor_side);
        if let Some((alias, mask)) = alias.and_then(|a| Some((a, claim(pt, a.reads, consumed)?))) {
            pairs.push(Pair {
                span: si,
                field: Field::Product,
                mask,
                quality: alias.quality,
                how: How::Alias,
                reads: alias.reads.join(" "),
            });
        }
    }
    pairs
}

/// The pairs taken, best first: each query token once, each product token
/// once. The vendor may be named more than once ("Microsoft" / "Microsoft
/// Exchange").
struct Taken<'a> {
    pairs: Vec<&'a Pair>,
    /// Per query token: its pair's quality and field, if taken.
    tokens: Vec<Option<(f64, Field)>>,
    vendor_cover: Vec<f64>,
    product_cover: Vec<f64>,
}

fn take<'a>(
    p: &Prepared,
    pairs: &'a mut [Pair],
    vt: &[String],
    pt: &[String],
    consumed: u32,
) -> Taken<'a> {
    let key = |pair: &Pair| p.spans.get(pair.span).map_or((0, 0), |s| (s.start, s.len));
    pairs.sort_by(|a, b| {
        let (ka, kb) = (key(a), key(b));
        b.quality
            .total_cmp(&a.quality)
            .then(kb.1.cmp(&ka.1))
            .then(b.mask.count_ones().cmp(&a.mask.count_ones()))
            .then((a.field == Field::Vendor).cmp(&(b.field == Field::Vendor)))
            .then(ka.0.cmp(&kb.0))
            .then(a.mask.cmp(&b.mask))
    });
    let mut out = Taken {
        pairs: Vec::new(),
        tokens: vec![None; p.tokens.len()],
        vendor_cover: vec![0.0; vt.len()],
        product_cover: vec![0.0; pt.len()],
    };
    let (mut used_q, mut used_p) = (0u32, consumed);
    for pair in pairs.iter() {
        let (start, len) = key(pair);
        let qmask = bits(start, len);
        if used_q & qmask != 0 || (pair.field == Field::Product && used_p & pair.mask != 0) {
            continue;
        }
        used_q |= qmask;
        let cover = match pair.field {
            Field::Vendor => &mut out.vendor_cover,
            Field::Product => {
                used_p |= pair.mask;
                &mut out.product_cover
            }
        };
        for (j, slot) in cover.iter_mut().enumerate() {
            if pair.mask & bit(j) != 0 && *slot < pair.quality {
                *slot = pair.quality;
            }
        }
        for slot in out.tokens.iter_mut().skip(start).take(len) {
            *slot = Some((pair.quality, pair.field));
        }
        out.pairs.push(pair);
    }
    out.pairs.sort_by_key(|pair| key(pair).0);
    out
}

/// How a candidate fares, in numbers.
struct Measures {
    vendor: f64,
    vendor_differs: bool,
    /// Product words in the query, once vendor mentions are set aside.
    words: usize,
    /// Whether any product word met the product name.
    product_found: bool,
    /// Share of the product words explained.
    typed: f64,
    /// Weighted share of the product name typed.
    named: f64,
}

/// The one line that says why.
fn explain(
    p: &Prepared,
    m: &Measures,
    taken: &Taken,
    consumed: usize,
    version_note: Option<String>,
    advisories: u32,
) -> String {
    let vendor = if m.vendor_differs {
        Some("vendor differs from the one given")
    } else if m.vendor >= 0.9 {
        Some("vendor matches")
    } else if m.vendor > 0.0 {
        Some("vendor partly matches")
    } else {
        None
    };
    let product = if m.words == 0 {
        "no product named"
    } else if !m.product_found {
        "product not found"
    } else if m.typed >= 0.9 && m.named >= 0.9 {
        "product matches"
    } else {
        "product partly matches"
    };
    let mut why = match vendor {
        Some("vendor matches") if product == "product matches" => {
            "vendor and product match".to_string()
        }
        Some(v) => format!("{v}; {product}"),
        None => product.to_string(),
    };
    let mut notes: Vec<String> = version_note.into_iter().collect();
    for pair in &taken.pairs {
        let typed = p.spans.get(pair.span).map_or("", |s| s.text.as_str());
        let reads = &pair.reads;
        match pair.how {
            How::Exact => {}
            How::Alias => notes.push(format!("'{typed}' read as {reads}")),
            How::Prefix => notes.push(format!("'{typed}' taken as the start of '{reads}'")),
            How::Typo => notes.push(format!("'{typed}' taken as a typo for '{reads}'")),
        }
    }
    for word in p.version.iter().take(consumed) {
        notes.push(format!("'{}' is part of the product name", word.raw));
    }
    notes.push(match advisories {
        0 => "named in no advisories yet".to_string(),
        1 => "named in 1 advisory".to_string(),
        n => format!("named in {n} advisories"),
    });
    for note in notes {
        why.push_str("; ");
        why.push_str(&note);
    }
    why
}

fn score(p: &Prepared, c: &Candidate) -> Option<Scored> {
    let vendor_value = name_value(c.vendor.trim())?;
    let product_value = name_value(c.product.trim())?;
    let part = part_of(c);
    let vt = name_tokens(&c.vendor);
    let pt = name_tokens(&c.product);

    let (mut consumed_mask, mut consumed) = consume_version(&p.version, &pt);
    let mut pairs = pairs_for(p, &vt, &pt, consumed_mask);
    if pairs.is_empty() {
        return None;
    }
    let mut taken = take(p, &mut pairs, &vt, &pt, consumed_mask);
    let product_positions: Vec<u32> = taken
        .pairs
        .iter()
        .filter(|pair| pair.field == Field::Product)
        .map(|pair| pair.mask.trailing_zeros())
        .collect();
    let product_found = !product_positions.is_empty();
    // Version words count as product words only beside a real product match.
    if !product_found {
        consumed.clear();
        consumed_mask = 0;
    }
    for (j, slot) in taken.product_cover.iter_mut().enumerate() {
        if consumed_mask & bit(j) != 0 {
            *slot = 1.0;
        }
    }
    let field_quality = |range: std::ops::Range<usize>, field: Field| {
        taken
            .tokens
            .get(range)
            .unwrap_or_default()
            .iter()
            .flatten()
            .filter(|(_, f)| *f == field)
            .map(|(q, _)| *q)
            .collect::<Vec<f64>>()
    };

    // Vendor: as given, or as named in the product text.
    let vendor_given = p.n_vendor > 0;
    let vendor_cov = coverage(&vt, &taken.vendor_cover);
    let vendor = if vendor_given {
        let typed: f64 = field_quality(0..p.n_vendor, Field::Vendor).iter().sum();
        0.5 * typed / p.n_vendor as f64 + 0.5 * vendor_cov
    } else {
        vendor_cov
    };

    // Product: what was typed explained, the name typed, in order.
    let product_range = p.n_vendor..p.tokens.len();
    let mentions = field_quality(product_range.clone(), Field::Vendor).len();
    let explained: f64 = field_quality(product_range.clone(), Field::Product)
        .iter()
        .sum();
    let words = product_range.len() - mentions + consumed.len();
    let typed = if words > 0 {
        (explained + consumed.len() as f64) / words as f64
    } else {
        0.0
    };
    let named = coverage(&pt, &taken.product_cover);
    let positions: Vec<u32> = product_positions
        .into_iter()
        .chain(consumed.iter().copied())
        .collect();
    let order = match positions.len() {
        0 => 0.0,
        1 => 1.0,
        n => {
            let rising = positions
                .windows(2)
                .filter(|w| w.first() < w.get(1))
                .count();
            rising as f64 / (n - 1) as f64
        }
    };
    let product = 0.55 * typed + 0.35 * named + 0.10 * order;

    let vendor_differs = vendor_given && vendor < 0.5;
    let mut s = if words == 0 {
        // Only a vendor named: that vendor's products, by advisory count.
        0.3 * vendor
    } else if !product_found {
        // A product named, but not this one.
        0.1 * vendor
    } else if vendor_given {
        let s = 0.35 * vendor + 0.65 * product;
        if vendor_differs { 0.5 * s } else { s }
    } else {
        0.15 * vendor + 0.85 * product
    };
    // A name pinned to another release ("windows_server_2016" for "Windows
    // Server 2019") is a different product, not a partial match.
    let other_release = !p.version.is_empty()
        && pt
            .iter()
            .zip(&taken.product_cover)
            .any(|(t, c)| *c == 0.0 && t.len() >= 2 && t.chars().all(|c| c.is_ascii_digit()));
    if other_release {
        s *= 0.85;
    }
    let left_as_version = p.version.len() - consumed.len();
    s *= 1.0 - 0.04 * left_as_version.min(2) as f64;
    let popularity = ((f64::from(c.advisories) + 1.0).log10() / 4.0).min(1.0);
    s *= 0.97 + 0.03 * popularity;
    let s = (s.clamp(0.0, 1.0) * 1e6).round() / 1e6;
    if s < MIN_SCORE {
        return None;
    }

    // The version: as given, or what the product name did not take.
    let version = match &p.explicit_version {
        Some(v) => Some(v.clone()),
        None => {
            let rest: Vec<&str> = p
                .version
                .iter()
                .skip(consumed.len())
                .enumerate()
                .map(|(i, w)| if i == 0 { strip_v(&w.raw) } else { &w.raw })
                .collect();
            (!rest.is_empty()).then(|| rest.join(" "))
        }
    };
    let (version_value, version_note) = match version {
        None => (AttrValue::Any, None),
        Some(v) => match version_value(&v) {
            Some(value) => (value, Some(format!("version {v}"))),
            None => (
                AttrValue::Any,
                Some(format!(
                    "version '{v}' cannot be written in a CPE name, so it is left open"
                )),
            ),
        },
    };
    let any = || AttrValue::Any;
    let wfn = Wfn::new([
        // Unknown part stays ANY: the matcher takes it as whichever part a
        // criteria names (`a` would miss operating systems and hardware).
        part.map_or(AttrValue::Any, |p| AttrValue::Value(p.to_string())),
        vendor_value,
        product_value,
        version_value,
        any(),
        any(),
        any(),
        any(),
        any(),
        any(),
        any(),
    ])
    .ok()?;

    let measures = Measures {
        vendor,
        vendor_differs,
        words,
        product_found,
        typed,
        named,
    };
    let why = explain(
        p,
        &measures,
        &taken,
        consumed.len(),
        version_note,
        c.advisories,
    );
    Some(Scored {
        suggestion: Suggestion {
            vendor: c.vendor.clone(),
            product: c.product.clone(),
            part,
            cpe: wfn.to_string(),
            score: s,
            why,
        },
        advisories: c.advisories,
    })
}

/// Rank `candidates` for what the user typed: at most `limit` suggestions,
/// best first (see the module documentation for the rule). Ties go to more
/// advisories, then vendor, product and part in ascending order, so the
/// order never depends on the order of `candidates`. A pair listed more than
/// once (same vendor, product and part) is suggested once, with its highest
/// count. Empty or junk queries, and candidates whose names cannot be CPE
/// values, give nothing; no input panics.
pub fn suggest(query: &Query, candidates: &[Candidate], limit: usize) -> Vec<Suggestion> {
    if limit == 0 {
        return Vec::new();
    }
    let prepared = prepare(query);
    if prepared.spans.is_empty() {
        return Vec::new();
    }
    // One of each pair (by name, ignoring case, and part), the most named.
    let key = |c: &Candidate| {
        (
            c.vendor.trim().to_lowercase(),
            c.product.trim().to_lowercase(),
            part_of(c),
        )
    };
    let mut unique: Vec<(_, &Candidate)> = candidates.iter().map(|c| (key(c), c)).collect();
    unique.sort_by(|(ka, a), (kb, b)| ka.cmp(kb).then(b.advisories.cmp(&a.advisories)));
    unique.dedup_by(|(kb, _), (ka, _)| ka == kb);
    let mut scored: Vec<Scored> = unique
        .into_iter()
        .filter_map(|(_, c)| score(&prepared, c))
        .collect();
    scored.sort_by(|a, b| {
        let (x, y) = (&a.suggestion, &b.suggestion);
        y.score
            .total_cmp(&x.score)
            .then(b.advisories.cmp(&a.advisories))
            .then_with(|| x.vendor.cmp(&y.vendor))
            .then_with(|| x.product.cmp(&y.product))
            .then_with(|| x.part.cmp(&y.part))
            .then_with(|| x.cpe.cmp(&y.cpe))
    });
    scored.truncate(limit);
    scored.into_iter().map(|s| s.suggestion).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Vendor:product pairs as NVD names them, with plausible advisory counts,
    /// including the neighbours people confuse.
    const CORPUS: &[(char, &str, &str, u32)] = &[
        ('a', "microsoft", "exchange_server", 412),
        ('a', "microsoft", "exchange_online", 4),
        ('a', "microsoft", "exchange_online_protection", 6),
        ('o', "microsoft", "windows_server_2012", 1610),
        ('o', "microsoft", "windows_server_2016", 1520),
        ('o', "microsoft", "windows_server_2019", 1450),
        ('o', "microsoft", "windows_server_2022", 1120),
        ('o', "microsoft", "windows_10", 2630),
        ('o', "microsoft", "windows_10_22h2", 980),
        ('o', "microsoft", "windows_11", 910),
        ('a', "microsoft", "sharepoint_server", 401),
        ('a', "microsoft", "office", 702),
        ('a', "microsoft", "365_apps", 610),
        ('a', "microsoft", "sql_server", 251),
        ('a', "microsoft", "internet_information_services", 61),
        ('a', "microsoft", "edge_chromium", 930),
        ('a', "microsoft", ".net_framework", 170),
        ('o', "fortinet", "fortios", 521),
        ('h', "fortinet", "fortigate", 31),
        ('a', "fortinet", "fortiproxy", 122),
        ('a', "fortinet", "fortimanager", 93),
        ('a', "fortinet", "fortianalyzer", 84),
        ('a', "fortinet", "fortiweb", 151),
        ('a', "fortinet", "fortisiem", 42),
        ('a', "fortinet", "forticlient", 63),
        ('o', "fortinet", "fortiswitch", 33),
        (
            'a',
            "citrix",
            "netscaler_application_delivery_controller",
            45,
        ),
        ('a', "citrix", "netscaler_gateway", 61),
        (
            'o',
            "citrix",
            "application_delivery_controller_firmware",
            72,
        ),
        ('a', "citrix", "xenapp", 41),
        ('a', "citrix", "virtual_apps_and_desktops", 52),
        ('a', "ivanti", "connect_secure", 71),
        ('a', "ivanti", "policy_secure", 43),
        ('a', "ivanti", "endpoint_manager_mobile", 26),
        ('a', "ivanti", "endpoint_manager", 62),
        ('a', "pulsesecure", "pulse_connect_secure", 92),
        ('a', "apache", "tomcat", 212),
        ('a', "apache", "http_server", 263),
        ('a', "apache", "log4j", 12),
        ('a', "apache", "struts", 81),
        ('a', "apache", "activemq", 33),
        ('a', "apache", "ofbiz", 44),
        ('a', "vmware", "vcenter_server", 91),
        ('a', "vmware", "esxi", 113),
        ('a', "vmware", "workspace_one_access", 32),
        ('a', "vmware", "tools", 11),
        ('a', "progress", "moveit_transfer", 27),
        ('a', "progress", "moveit_cloud", 15),
        ('a', "progress", "ws_ftp_server", 12),
        ('a', "ipswitch", "moveit_transfer", 6),
        ('o', "cisco", "ios_xe", 503),
        ('o', "cisco", "ios", 904),
        ('a', "cisco", "adaptive_security_appliance_software", 322),
        ('a', "cisco", "firepower_threat_defense", 254),
        ('a', "cisco", "webex_meetings", 101),
        ('a', "cisco", "identity_services_engine", 152),
        ('o', "paloaltonetworks", "pan-os", 213),
        ('a', "paloaltonetworks", "globalprotect", 31),
        ('a', "sophos", "firewall", 41),
        ('o', "sophos", "sfos", 30),
        ('a', "openssl", "openssl", 251),
        ('o', "sonicwall", "sma_100_firmware", 35),
        ('o', "sonicwall", "sonicos", 82),
        ('a', "atlassian", "confluence_server", 113),
        ('a', "atlassian", "confluence_data_center", 104),
        ('a', "atlassian", "jira_server", 121),
        ('a', "connectwise", "screenconnect", 10),
        ('a', "solarwinds", "orion_platform", 62),
        ('a', "veeam", "backup_&_replication", 24),
        ('a', "oracle", "weblogic_server", 331),
        ('a', "oracle", "database_server", 604),
        ('a', "f5", "big-ip_access_policy_manager", 151),
        ('o', "juniper", "junos", 702),
        ('a', "google", "chrome", 3010),
        ('a', "mozilla", "firefox", 2530),
        ('a', "zohocorp", "manageengine_servicedesk_plus", 81),
        ('a', "notepad-plus-plus", "notepad++", 21),
        ('a', "7-zip", "7-zip", 10),
        ('o', "redhat", "enterprise_linux", 5012),
        ('o', "linux", "linux_kernel", 6020),
        ('o', "canonical", "ubuntu_linux", 3040),
        ('a', "adobe", "acrobat_reader_dc", 803),
        ('a', "wordpress", "wordpress", 502),
        ('a', "php", "php", 701),
        ('a', "trendmicro", "apex_one", 61),
    ];

    fn corpus() -> Vec<Candidate> {
        CORPUS
            .iter()
            .map(|&(part, vendor, product, advisories)| Candidate {
                part: Some(part),
                vendor: vendor.to_string(),
                product: product.to_string(),
                advisories,
            })
            .collect()
    }

    fn ask(vendor: Option<&str>, product: &str) -> Vec<Suggestion> {
        let query = Query {
            vendor,
            product,
            version: None,
        };
        suggest(&query, &corpus(), 10)
    }

    fn top(vendor: Option<&str>, product: &str) -> Suggestion {
        let all = ask(vendor, product);
        match all.into_iter().next() {
            Some(s) => s,
            None => panic!("no suggestion for {vendor:?} / {product:?}"),
        }
    }

    fn pair(s: &Suggestion) -> String {
        format!("{}:{}", s.vendor, s.product)
    }

    fn cpe(part: char, vendor: &str, product: &str, version: &str) -> String {
        format!("cpe:2.3:{part}:{vendor}:{product}:{version}:*:*:*:*:*:*:*")
    }

    #[test]
    fn realistic_queries_put_the_right_pair_first() {
        let cases: &[(Option<&str>, &str, &str)] = &[
            (
                Some("Microsoft"),
                "Exchange Server 2019",
                "microsoft:exchange_server",
            ),
            (
                None,
                "Microsoft Exchange Server",
                "microsoft:exchange_server",
            ),
            (None, "Exchange", "microsoft:exchange_server"),
            (
                Some("Microsoft"),
                "Exchange Online",
                "microsoft:exchange_online",
            ),
            (Some("MS"), "Exchange 2016", "microsoft:exchange_server"),
            (None, "FortiGate", "fortinet:fortios"),
            (Some("Fortinet"), "FortiOS 7.2.5", "fortinet:fortios"),
            (None, "Forti", "fortinet:fortios"),
            (None, "FortiManager", "fortinet:fortimanager"),
            (
                None,
                "Citrix NetScaler ADC",
                "citrix:netscaler_application_delivery_controller",
            ),
            (
                Some("Citrix"),
                "NetScaler Gateway",
                "citrix:netscaler_gateway",
            ),
            (
                Some("Citrix Systems, Inc."),
                "ADC",
                "citrix:application_delivery_controller_firmware",
            ),
            (None, "Ivanti Connect Secure", "ivanti:connect_secure"),
            (
                None,
                "Pulse Connect Secure",
                "pulsesecure:pulse_connect_secure",
            ),
            (None, "Ivanti EPMM", "ivanti:endpoint_manager_mobile"),
            (None, "MOVEit Transfer", "progress:moveit_transfer"),
            (None, "VMware vCenter", "vmware:vcenter_server"),
            (None, "vCenter", "vmware:vcenter_server"),
            (None, "ESXi 7.0", "vmware:esxi"),
            (None, "Apache Tomcat", "apache:tomcat"),
            (None, "Tomcat 9.0.80", "apache:tomcat"),
            (None, "Apache HTTP Server 2.4.58", "apache:http_server"),
            (None, "httpd", "apache:http_server"),
            (
                Some("Apache Software Foundation"),
                "Struts",
                "apache:struts",
            ),
            (None, "Log4j 2.14.1", "apache:log4j"),
            (
                Some("Cisco Systems"),
                "ASA",
                "cisco:adaptive_security_appliance_software",
            ),
            (None, "Cisco IOS XE 17.9", "cisco:ios_xe"),
            (None, "Cisco IOS", "cisco:ios"),
            (
                Some("Palo Alto Networks"),
                "PAN-OS 10.2.3",
                "paloaltonetworks:pan-os",
            ),
            (None, "PANOS", "paloaltonetworks:pan-os"),
            (Some("Sophos"), "Firewall", "sophos:firewall"),
            (None, "OpenSSL 3.0.7", "openssl:openssl"),
            (None, "SonicWall SMA 100", "sonicwall:sma_100_firmware"),
            (None, "Windows Server 2019", "microsoft:windows_server_2019"),
            (
                None,
                "Windows Server 2012 R2",
                "microsoft:windows_server_2012",
            ),
            (None, "Windows 10 22H2", "microsoft:windows_10_22h2"),
            (None, "Windows 11", "microsoft:windows_11"),
            (
                Some("Microsoft"),
                "Microsoft 365 Apps",
                "microsoft:365_apps",
            ),
            (
                Some("Microsoft"),
                ".NET Framework 4.8",
                "microsoft:.net_framework",
            ),
            (
                Some("Microsoft"),
                "IIS 10",
                "microsoft:internet_information_services",
            ),
            (None, "Confluence", "atlassian:confluence_server"),
            (None, "7-Zip 23.01", "7-zip:7-zip"),
            (
                None,
                "Veeam Backup & Replication",
                "veeam:backup_&_replication",
            ),
            (Some("Oracle"), "Tomcat", "apache:tomcat"),
        ];
        for (vendor, product, want) in cases {
            let got = ask(*vendor, product);
            let first = got.first().map(pair).unwrap_or_default();
            assert_eq!(
                first,
                *want,
                "{vendor:?} / {product:?}: {:#?}",
                got.iter().take(3).collect::<Vec<_>>()
            );
        }
    }

    #[test]
    fn close_neighbours_come_next() {
        let names = |v, p| ask(v, p).iter().take(3).map(pair).collect::<Vec<_>>();
        assert!(names(None, "FortiGate").contains(&"fortinet:fortigate".to_string()));
        // Both NVD names for Connect Secure are offered.
        let ics = names(None, "Ivanti Connect Secure");
        assert_eq!(
            ics.get(1).map(String::as_str),
            Some("pulsesecure:pulse_connect_secure")
        );
        // "exchange server" is the server, not Exchange Online Protection.
        let ex = ask(None, "Exchange Server");
        let rank = |p: &str| ex.iter().position(|s| s.product == p);
        assert_eq!(rank("exchange_server"), Some(0));
        assert!(rank("exchange_online_protection") > Some(0));
        // A name pinned to another release is well behind.
        let ws = ask(None, "Windows Server 2019");
        let score = |p: &str| ws.iter().find(|s| s.product == p).map_or(0.0, |s| s.score);
        assert!(score("windows_server_2016") < 0.75 * score("windows_server_2019"));
        // The right vendor's neighbours rank above another vendor's.
        let ms = ask(Some("Microsoft"), "Exchange Server 2019");
        assert_eq!(
            ms.get(1).map(pair).as_deref(),
            Some("microsoft:windows_server_2019")
        );
    }

    #[test]
    fn versions_move_out_of_the_product_text() {
        let s = top(None, "Tomcat 9.0.80");
        assert_eq!(s.cpe, cpe('a', "apache", "tomcat", "9.0.80"));
        assert!(s.why.contains("version 9.0.80"), "{}", s.why);

        // Release words stay with the version; spaces become `_`.
        let s = top(Some("Microsoft"), "Exchange Server 2019 CU12");
        assert_eq!(s.cpe, cpe('a', "microsoft", "exchange_server", "2019_cu12"));

        // A product named for the version takes it.
        let s = top(None, "Windows Server 2019");
        assert_eq!(s.cpe, cpe('o', "microsoft", "windows_server_2019", "*"));
        assert!(
            s.why.contains("'2019' is part of the product name"),
            "{}",
            s.why
        );
        let s = top(None, "Windows Server 2012 R2");
        assert_eq!(s.cpe, cpe('o', "microsoft", "windows_server_2012", "r2"));
        let s = top(None, "SonicWall SMA 100");
        assert_eq!(s.cpe, cpe('o', "sonicwall", "sma_100_firmware", "*"));

        // A leading v goes; a given version wins.
        let s = top(Some("Fortinet"), "FortiOS v7.2.5");
        assert_eq!(s.cpe, cpe('o', "fortinet", "fortios", "7.2.5"));
        let q = Query {
            vendor: None,
            product: "Tomcat 9.0.80",
            version: Some(" 9.0.82 "),
        };
        let s = suggest(&q, &corpus(), 1);
        assert_eq!(
            s.first().map(|s| s.cpe.as_str()),
            Some(cpe('a', "apache", "tomcat", "9.0.82").as_str())
        );
        // Names with digits are not versions.
        assert_eq!(top(None, "7-Zip").cpe, cpe('a', "7-zip", "7-zip", "*"));
        assert_eq!(top(None, "Log4j").cpe, cpe('a', "apache", "log4j", "*"));
    }

    #[test]
    fn cpe_values_are_quoted() {
        assert_eq!(
            top(None, "Notepad++ 8.5.7").cpe,
            "cpe:2.3:a:notepad-plus-plus:notepad\\+\\+:8.5.7:*:*:*:*:*:*:*"
        );
        assert_eq!(
            top(None, "Veeam Backup & Replication").cpe,
            "cpe:2.3:a:veeam:backup_\\&_replication:*:*:*:*:*:*:*:*"
        );
        assert_eq!(
            top(Some("Microsoft"), ".NET Framework 4.8").cpe,
            "cpe:2.3:a:microsoft:.net_framework:4.8:*:*:*:*:*:*:*"
        );
        let q = Query {
            vendor: Some("Apache"),
            product: "Tomcat",
            version: Some("9.0:beta (x64)*"),
        };
        let s = suggest(&q, &corpus(), 1);
        let got = s.first().map(|s| s.cpe.clone()).unwrap_or_default();
        assert_eq!(
            got,
            "cpe:2.3:a:apache:tomcat:9.0\\:beta_\\(x64\\)\\*:*:*:*:*:*:*:*"
        );
        let w = Wfn::parse(&got).map_err(|e| e.to_string());
        assert_eq!(
            w.map(|w| w.version().unquoted()),
            Ok(Some("9.0:beta_(x64)*".to_string()))
        );

        // A version a CPE cannot hold is left open, and said so.
        let q = Query {
            version: Some("9.0 ünï"),
            ..q
        };
        let s = suggest(&q, &corpus(), 1);
        let s = s.first().cloned();
        assert_eq!(
            s.as_ref().map(|s| s.cpe.as_str()),
            Some(cpe('a', "apache", "tomcat", "*").as_str())
        );
        assert!(s.is_some_and(|s| s.why.contains("left open")));

        // Unknown parts stay ANY (`*`); names no CPE can hold are skipped.
        let odd = [
            Candidate {
                part: None,
                vendor: "acme".into(),
                product: "road_runner".into(),
                advisories: 5,
            },
            Candidate {
                part: Some('x'),
                vendor: "acme".into(),
                product: "road runner".into(),
                advisories: 9,
            },
            Candidate {
                part: Some('O'),
                vendor: "acme".into(),
                product: "roadrunner\\!".into(),
                advisories: 2,
            },
        ];
        let q = Query {
            vendor: Some("ACME"),
            product: "Road Runner",
            version: None,
        };
        let s = suggest(&q, &odd, 10);
        let cpes: Vec<&str> = s.iter().map(|s| s.cpe.as_str()).collect();
        assert_eq!(
            cpes,
            [
                "cpe:2.3:*:acme:road_runner:*:*:*:*:*:*:*:*",
                "cpe:2.3:o:acme:roadrunner\\!:*:*:*:*:*:*:*:*",
            ]
        );
        assert_eq!(s.first().map(|s| s.part), Some(None));
        assert_eq!(s.get(1).map(|s| s.part), Some(Some('o')));
    }

    #[test]
    fn explanations_say_why() {
        let s = top(Some("Microsoft"), "Exchange Server");
        assert_eq!(s.why, "vendor and product match; named in 412 advisories");
        let s = top(None, "Tomcat");
        assert_eq!(s.why, "product matches; named in 212 advisories");
        let s = top(None, "Exchnage Server");
        assert_eq!(pair(&s), "microsoft:exchange_server");
        assert!(
            s.why.contains("'exchnage' taken as a typo for 'exchange'"),
            "{}",
            s.why
        );
        let s = top(None, "Forti");
        assert!(
            s.why.contains("'forti' taken as the start of 'fortios'"),
            "{}",
            s.why
        );
        let s = top(Some("MS"), "Exchange");
        assert!(s.why.contains("'ms' read as microsoft"), "{}", s.why);
        let s = top(None, "Cisco ASA");
        assert!(
            s.why.contains("'asa' read as adaptive security appliance"),
            "{}",
            s.why
        );
        let s = top(Some("Oracle"), "Tomcat");
        assert!(
            s.why.starts_with("vendor differs from the one given"),
            "{}",
            s.why
        );
        let one = [Candidate {
            part: Some('a'),
            vendor: "acme".into(),
            product: "anvil".into(),
            advisories: 1,
        }];
        let q = Query {
            product: "Anvil",
            ..Query::default()
        };
        assert_eq!(
            suggest(&q, &one, 1).first().map(|s| s.why.as_str()),
            Some("product matches; named in 1 advisory")
        );
    }

    #[test]
    fn a_vendor_alone_lists_its_products_by_advisories() {
        let got = ask(Some("Fortinet"), "");
        let names: Vec<String> = got.iter().take(3).map(pair).collect();
        assert_eq!(
            names,
            [
                "fortinet:fortios",
                "fortinet:fortiweb",
                "fortinet:fortiproxy"
            ]
        );
        assert!(got.iter().all(|s| s.vendor == "fortinet"));
        assert!(got.iter().all(|s| s.why.contains("no product named")));
        // The vendor may be in the product field too.
        assert_eq!(pair(&top(None, "Fortinet")), "fortinet:fortios");
    }

    #[test]
    fn ties_go_to_advisories_then_names() {
        // Same text score; the corpus' usual name wins.
        let got = ask(None, "MOVEit Transfer");
        let names: Vec<String> = got.iter().take(2).map(pair).collect();
        assert_eq!(
            names,
            ["progress:moveit_transfer", "ipswitch:moveit_transfer"]
        );

        // Exactly equal: advisories, then vendor, then product.
        let mk = |vendor: &str, advisories| Candidate {
            part: Some('a'),
            vendor: vendor.to_string(),
            product: "widget".to_string(),
            advisories,
        };
        let list = [mk("zeta", 5), mk("beta", 5), mk("alpha", 5), mk("omega", 9)];
        let q = Query {
            product: "Widget",
            ..Query::default()
        };
        let got: Vec<String> = suggest(&q, &list, 10)
            .iter()
            .map(|s| s.vendor.clone())
            .collect();
        assert_eq!(got, ["omega", "alpha", "beta", "zeta"]);
    }

    #[test]
    fn order_and_duplicates_do_not_matter() {
        let q = Query {
            vendor: Some("Microsoft"),
            product: "Windows Server",
            version: None,
        };
        let mut list = corpus();
        let first = suggest(&q, &list, 20);
        list.reverse();
        list.rotate_left(17);
        let dup = Candidate {
            advisories: 3,
            ..list[5].clone()
        };
        list.push(dup);
        list.push(Candidate {
            part: Some('O'),
            vendor: "Microsoft".into(),
            product: "Windows_Server_2019".into(),
            advisories: 1,
        });
        list.extend(corpus());
        assert_eq!(suggest(&q, &list, 20), first);
        let keys: Vec<String> = first.iter().map(pair).collect();
        let mut unique = keys.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), keys.len());
    }

    #[test]
    fn limit_is_respected() {
        let q = Query {
            vendor: Some("Microsoft"),
            product: "",
            version: None,
        };
        let all = suggest(&q, &corpus(), 100);
        assert_eq!(all.len(), 17);
        for limit in [0, 1, 3, 17, 50] {
            let got = suggest(&q, &corpus(), limit);
            assert_eq!(got.len(), limit.min(17));
            assert_eq!(got.as_slice(), &all[..limit.min(17)]);
        }
    }

    #[test]
    fn empty_and_junk_give_nothing() {
        let junk = [
            "",
            "   ",
            "!!! ??? ***",
            "the inc ltd corporation",
            "2019",
            "9.0.80 CU12",
            "x",
            "zzqqxxjj",
            "🚀 ünïcödé",
            "\0\u{7}\u{1b}[31m",
        ];
        for product in junk {
            assert_eq!(ask(None, product), [], "{product:?}");
            assert_eq!(ask(Some(product), product), [], "{product:?}");
        }
        assert_eq!(suggest(&Query::default(), &corpus(), 10), []);
        let q = Query {
            product: "Tomcat",
            ..Query::default()
        };
        assert_eq!(suggest(&q, &[], 10), []);
    }

    #[test]
    fn long_input_is_cut_short() {
        let long = "exchange ".repeat(10_000);
        let got = ask(Some(&long), &long);
        assert!(got.len() <= 10);
        let word = "a".repeat(100_000);
        assert_eq!(ask(None, &word), []);
        assert!(tokens(&long).len() <= 2 * MAX_TOKENS);
    }

    #[test]
    fn search_tokens() {
        assert_eq!(tokens("Microsoft Corporation"), ["microsoft"]);
        assert_eq!(tokens("Exchange Server 2019 CU12"), ["exchange", "server"]);
        assert_eq!(tokens("Tomcat 9.0.80"), ["tomcat"]);
        assert_eq!(tokens("PAN-OS"), ["pan", "os"]);
        assert_eq!(
            tokens("netscaler_gateway"),
            ["netscaler", "gateway", "citrix"]
        );
        assert_eq!(tokens("The Apache Software Foundation"), ["apache"]);
        assert_eq!(tokens("MS Exchange"), ["ms", "exchange", "microsoft"]);
        assert_eq!(
            tokens("Citrix ADC"),
            ["citrix", "adc", "application", "delivery", "controller"]
        );
        assert_eq!(tokens("FortiGate"), ["fortigate", "fortios"]);
        assert_eq!(
            tokens("Palo Alto Networks"),
            ["palo", "alto", "paloaltonetworks"]
        );
        assert_eq!(tokens("7-Zip"), ["zip"]);
        assert_eq!(tokens("SMA 100"), ["sma"]);
        assert_eq!(tokens("exchange exchange"), ["exchange"]);
        assert_eq!(tokens(""), Vec::<String>::new());
        assert_eq!(tokens("!!! a b c 2019"), Vec::<String>::new());
    }

    #[test]
    fn one_edit() {
        let e = |a: &str, b: &str| one_edit_apart(a.as_bytes(), b.as_bytes());
        assert!(e("exchange", "exchnage"));
        assert!(e("exchange", "exhange"));
        assert!(e("exchange", "exchangee"));
        assert!(e("tomcat", "tomcst"));
        assert!(!e("tomcat", "tomcat"));
        assert!(!e("tomcat", "tmocta"));
        assert!(!e("exchange", "exchan"));
        assert!(!e("ab", "ba\u{0}"));
    }

    // ---- properties -----------------------------------------------------------

    fn vocabulary() -> impl Strategy<Value = String> {
        let words = prop::sample::select(vec![
            "Microsoft",
            "MS",
            "Exchange",
            "Server",
            "2019",
            "CU12",
            "Forti",
            "FortiGate",
            "Citrix",
            "NetScaler",
            "ADC",
            "Ivanti",
            "Connect",
            "Secure",
            "MOVEit",
            "vCenter",
            "Apache",
            "Tomcat",
            "9.0.80",
            "v7.2",
            "R2",
            "Inc.",
            "the",
            "httpd",
            "7-Zip",
            "Windows",
            "10",
            "22H2",
            "exchnage",
            "&",
            "++",
            "-",
            "_",
            ".",
            "ü",
        ]);
        prop::collection::vec(words, 0..8).prop_map(|w| w.join(" "))
    }

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![vocabulary(), "\\PC{0,60}", "[a-z0-9 ._+&-]{0,40}"]
    }

    proptest! {
        #[test]
        fn suggestions_are_sane(
            vendor in prop::option::of(text()),
            product in text(),
            version in prop::option::of(text()),
            limit in 0usize..12,
        ) {
            let q = Query {
                vendor: vendor.as_deref(),
                product: &product,
                version: version.as_deref(),
            };
            let list = corpus();
            let got = suggest(&q, &list, limit);
            prop_assert!(got.len() <= limit);
            for s in &got {
                prop_assert!((0.0..=1.0).contains(&s.score), "{}", s.score);
                prop_assert!(Wfn::parse(&s.cpe).is_ok(), "{}", s.cpe);
                prop_assert!(!s.why.is_empty());
            }
            for w in got.windows(2) {
                if let [a, b] = w {
                    prop_assert!(a.score >= b.score);
                }
            }
            prop_assert_eq!(suggest(&q, &list, limit), got);
            let t = tokens(&product);
            prop_assert!(t.len() <= 2 * MAX_TOKENS);
            prop_assert!(t
                .iter()
                .all(|t| !t.is_empty() && t.chars().count() <= MAX_TOKEN_LEN));
        }

        #[test]
        fn any_candidates_are_safe(
            names in prop::collection::vec(
                ("\\PC{0,20}", "\\PC{0,20}", any::<Option<char>>(), any::<u32>()),
                0..20,
            ),
            product in text(),
        ) {
            let list: Vec<Candidate> = names
                .into_iter()
                .map(|(vendor, product, part, advisories)| Candidate {
                    part,
                    vendor,
                    product,
                    advisories,
                })
                .collect();
            let q = Query { vendor: None, product: &product, version: None };
            let got = suggest(&q, &list, 5);
            prop_assert!(got.len() <= 5);
            for s in &got {
                prop_assert!((0.0..=1.0).contains(&s.score));
                prop_assert!(Wfn::parse(&s.cpe).is_ok(), "{}", s.cpe);
            }
        }
    }
}

//! CPE 2.3 names and name matching, after NIST IR 7695 (CPE Naming 2.3) and
//! NIST IR 7696 (CPE Name Matching 2.3).
//!
//! A [`Wfn`] (well-formed name) holds the eleven attributes of a CPE name.
//! Each is an [`AttrValue`]: the logical values ANY and NA, or a value string
//! in WFN form: lower case, every character other than a letter, a digit or
//! `_` quoted with a backslash (`8\.0\.6001`, `prod\:uct`), and unquoted `*`
//! and `?` wildcards only at either end (`7\.*`). Names come in through the
//! formatted-string binding (`cpe:2.3:a:vendor:product:…`) or the older URI
//! binding (`cpe:/a:vendor:product:…`) and go out as a formatted string
//! (`Display`).
//!
//! Matching follows IR 7696: [`compare_attr`] gives each attribute's relation
//! (superset, subset, equal, disjoint, undefined) and [`is_match`] is the
//! test NVD applicability needs: the `cpeMatch.criteria` pattern is the
//! source, the inventory item's name is the target, and they match when every
//! attribute is a superset or equal. Version ranges (`versionStartIncluding`
//! …) are not handled here; the version module compares those.
//!
//! Everything here is pure and total: bad input is an error, never a panic.

use std::fmt;
use std::str::FromStr;

/// The eleven attributes of a WFN, in binding order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Attribute {
    Part,
    Vendor,
    Product,
    Version,
    Update,
    Edition,
    Language,
    SwEdition,
    TargetSw,
    TargetHw,
    Other,
}

impl Attribute {
    /// All attributes in the order of the formatted-string binding.
    pub const ALL: [Attribute; 11] = [
        Attribute::Part,
        Attribute::Vendor,
        Attribute::Product,
        Attribute::Version,
        Attribute::Update,
        Attribute::Edition,
        Attribute::Language,
        Attribute::SwEdition,
        Attribute::TargetSw,
        Attribute::TargetHw,
        Attribute::Other,
    ];

    /// The attribute's name as IR 7695 spells it (`sw_edition`, `target_hw`, …).
    pub fn name(self) -> &'static str {
        match self {
            Attribute::Part => "part",
            Attribute::Vendor => "vendor",
            Attribute::Product => "product",
            Attribute::Version => "version",
            Attribute::Update => "update",
            Attribute::Edition => "edition",
            Attribute::Language => "language",
            Attribute::SwEdition => "sw_edition",
            Attribute::TargetSw => "target_sw",
            Attribute::TargetHw => "target_hw",
            Attribute::Other => "other",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The value of one attribute.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AttrValue {
    /// ANY: no constraint (`*` in a formatted string, empty in a URI).
    Any,
    /// NA: not applicable, the attribute has no value (`-`).
    Na,
    /// A value string in WFN form (see the module documentation).
    Value(String),
}

impl AttrValue {
    /// A value given in WFN form (`8\.0`, `prod\:uct`, `7\.*`), checked and
    /// normalised to lower case.
    pub fn wfn(value: &str) -> Result<AttrValue, ValueProblem> {
        let toks = scan_quoted(value, Syntax::Wfn)?;
        Ok(AttrValue::Value(assemble(&toks)?))
    }

    /// A plain value with no wildcards and nothing quoted, such as a product
    /// name from an inventory (`log4j-core`, `2.14.1`): every special
    /// character is taken literally.
    pub fn literal(value: &str) -> Result<AttrValue, ValueProblem> {
        let mut toks = Vec::with_capacity(value.len());
        for c in value.chars() {
            check_char(c)?;
            toks.push(Tok::Lit(c.to_ascii_lowercase()));
        }
        Ok(AttrValue::Value(assemble(&toks)?))
    }

    /// The value string in WFN form, or `None` for ANY and NA.
    pub fn as_wfn(&self) -> Option<&str> {
        match self {
            AttrValue::Value(v) => Some(v),
            AttrValue::Any | AttrValue::Na => None,
        }
    }

    /// Whether the value string has an unquoted `*` or `?`.
    pub fn has_wildcards(&self) -> bool {
        self.as_wfn()
            .is_some_and(|v| tokens(v).iter().any(|t| !matches!(t, Tok::Lit(_))))
    }

    /// The value with its quoting removed (`prod\:uct` → `prod:uct`), or
    /// `None` for ANY, NA and values with wildcards.
    pub fn unquoted(&self) -> Option<String> {
        let v = self.as_wfn()?;
        tokens(v)
            .into_iter()
            .map(|t| match t {
                Tok::Lit(c) => Some(c),
                Tok::Star | Tok::Quest => None,
            })
            .collect()
    }
}

/// What is wrong with one attribute value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueProblem {
    #[error("is empty (write * for ANY or - for NA)")]
    Empty,
    #[error("contains the non-ASCII character {0:?}")]
    NonAscii(char),
    #[error("contains the whitespace or control character {0:?}")]
    NotPrintable(char),
    #[error(
        "contains {0:?} unquoted (quote it with \\ in a formatted string, %-encode it in a URI)"
    )]
    UnquotedSpecial(char),
    #[error("has the wildcard {0:?} inside it; wildcards are allowed only at the start or end")]
    EmbeddedWildcard(char),
    #[error("consists only of wildcards with a *; write ANY (*) instead")]
    OnlyWildcards,
    #[error("quotes the letter or digit {0:?}, which must not be quoted")]
    NeedlessQuote(char),
    #[error("ends with a lone backslash")]
    TrailingBackslash,
    #[error("has the invalid percent-encoding {0:?}")]
    BadPercentEncoding(String),
    #[error("is a lone quoted hyphen, which a WFN does not allow (write - for NA)")]
    LoneHyphen,
}

/// The two textual bindings of a CPE 2.3 name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Binding {
    /// `cpe:2.3:part:vendor:product:version:update:edition:language:sw_edition:target_sw:target_hw:other`
    FormattedString,
    /// `cpe:/part:vendor:product:version:update:edition:language`
    Uri,
}

impl fmt::Display for Binding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Binding::FormattedString => "formatted string, which has exactly 11",
            Binding::Uri => "URI, which has 1 to 7",
        })
    }
}

/// What is wrong with a CPE name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CpeErrorKind {
    #[error("it must start with 'cpe:2.3:' (formatted string) or 'cpe:/' (URI)")]
    Prefix,
    #[error("it has {found} components; a {binding}")]
    ComponentCount { binding: Binding, found: usize },
    #[error("{attribute} '{component}' {problem}")]
    Value {
        attribute: Attribute,
        component: String,
        problem: ValueProblem,
    },
    #[error("part '{component}' must be a, o, h or ANY")]
    Part { component: String },
    #[error(
        "the packed edition '{component}' must be ~edition~sw_edition~target_sw~target_hw~other \
         (5 fields); it has {found}"
    )]
    PackedEdition { component: String, found: usize },
}

/// A CPE name that could not be read, with the name as given.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("CPE name '{name}' is not valid: {kind}")]
pub struct CpeError {
    pub name: String,
    pub kind: CpeErrorKind,
}

/// A well-formed CPE name: eleven attribute values, each valid WFN, with a
/// part of `a`, `o`, `h` or ANY. Build one by parsing, with [`Wfn::new`], or
/// from [`Wfn::any`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Wfn {
    attrs: [AttrValue; 11],
}

impl Wfn {
    /// The name with every attribute ANY: matches every name without wildcards.
    pub fn any() -> Wfn {
        Wfn {
            attrs: std::array::from_fn(|_| AttrValue::Any),
        }
    }

    /// A name from its eleven values in [`Attribute::ALL`] order, each checked
    /// and normalised.
    pub fn new(attrs: [AttrValue; 11]) -> Result<Wfn, CpeError> {
        let shown = attrs
            .iter()
            .map(|a| match a {
                AttrValue::Any => "ANY",
                AttrValue::Na => "NA",
                AttrValue::Value(v) => v.as_str(),
            })
            .collect::<Vec<_>>()
            .join(":");
        let mut out = Wfn::any();
        for (attr, value) in Attribute::ALL.into_iter().zip(attrs) {
            let value = match value {
                AttrValue::Value(v) => AttrValue::wfn(&v).map_err(|problem| CpeError {
                    name: shown.clone(),
                    kind: CpeErrorKind::Value {
                        attribute: attr,
                        component: v.clone(),
                        problem,
                    },
                })?,
                other => other,
            };
            out.set(attr, value);
        }
        out.check_part(&shown)?;
        Ok(out)
    }

    /// Parse either binding, chosen by the prefix.
    pub fn parse(name: &str) -> Result<Wfn, CpeError> {
        if strip_prefix_ci(name, "cpe:/").is_some() {
            Wfn::parse_uri(name)
        } else {
            Wfn::parse_formatted(name)
        }
    }

    /// Parse a formatted string: `cpe:2.3:` and eleven colon-separated
    /// components; `*` is ANY, `-` is NA, `\` quotes the next character,
    /// `.`, `-` and `_` may appear unquoted, `*` and `?` are wildcards at
    /// either end of a value.
    pub fn parse_formatted(name: &str) -> Result<Wfn, CpeError> {
        let err = |kind| CpeError {
            name: name.to_string(),
            kind,
        };
        let rest = strip_prefix_ci(name, "cpe:2.3:").ok_or_else(|| err(CpeErrorKind::Prefix))?;
        let comps = split_formatted(rest);
        if comps.len() != Attribute::ALL.len() {
            return Err(err(CpeErrorKind::ComponentCount {
                binding: Binding::FormattedString,
                found: comps.len(),
            }));
        }
        let mut wfn = Wfn::any();
        for (attr, comp) in Attribute::ALL.into_iter().zip(&comps) {
            let value = match comp.as_str() {
                "*" => AttrValue::Any,
                "-" => AttrValue::Na,
                _ => scan_quoted(comp, Syntax::Formatted)
                    .and_then(|toks| assemble(&toks))
                    .map(AttrValue::Value)
                    .map_err(|problem| {
                        err(CpeErrorKind::Value {
                            attribute: attr,
                            component: comp.clone(),
                            problem,
                        })
                    })?,
            };
            wfn.set(attr, value);
        }
        wfn.check_part(name)?;
        Ok(wfn)
    }

    /// Parse a URI: `cpe:/` and up to seven colon-separated components
    /// (part to language); missing or empty components are ANY, `-` is NA,
    /// `%xx` encodes a special character (`%01` is `?`, `%02` is `*`), and an
    /// edition starting with `~` packs edition, sw_edition, target_sw,
    /// target_hw and other.
    pub fn parse_uri(name: &str) -> Result<Wfn, CpeError> {
        const URI_ATTRS: [Attribute; 7] = [
            Attribute::Part,
            Attribute::Vendor,
            Attribute::Product,
            Attribute::Version,
            Attribute::Update,
            Attribute::Edition,
            Attribute::Language,
        ];
        const PACKED: [Attribute; 5] = [
            Attribute::Edition,
            Attribute::SwEdition,
            Attribute::TargetSw,
            Attribute::TargetHw,
            Attribute::Other,
        ];
        let err = |kind| CpeError {
            name: name.to_string(),
            kind,
        };
        let rest = strip_prefix_ci(name, "cpe:/").ok_or_else(|| err(CpeErrorKind::Prefix))?;
        let comps: Vec<&str> = rest.split(':').collect();
        if comps.len() > URI_ATTRS.len() {
            return Err(err(CpeErrorKind::ComponentCount {
                binding: Binding::Uri,
                found: comps.len(),
            }));
        }
        let value_of = |attr: Attribute, comp: &str| {
            uri_value(comp).map_err(|problem| {
                err(CpeErrorKind::Value {
                    attribute: attr,
                    component: comp.to_string(),
                    problem,
                })
            })
        };
        let mut wfn = Wfn::any();
        for (attr, comp) in URI_ATTRS.into_iter().zip(comps) {
            if attr == Attribute::Edition && comp.starts_with('~') {
                let fields: Vec<&str> = comp.split('~').skip(1).collect();
                if fields.len() != PACKED.len() {
                    return Err(err(CpeErrorKind::PackedEdition {
                        component: comp.to_string(),
                        found: fields.len(),
                    }));
                }
                for (packed, field) in PACKED.into_iter().zip(fields) {
                    wfn.set(packed, value_of(packed, field)?);
                }
            } else {
                wfn.set(attr, value_of(attr, comp)?);
            }
        }
        wfn.check_part(name)?;
        Ok(wfn)
    }

    /// The value of one attribute.
    pub fn get(&self, attr: Attribute) -> &AttrValue {
        // `attrs` has one slot per attribute, so the index is always in range.
        &self.attrs[attr.index()]
    }

    /// All eleven values in [`Attribute::ALL`] order.
    pub fn attributes(&self) -> &[AttrValue; 11] {
        &self.attrs
    }

    pub fn part(&self) -> &AttrValue {
        self.get(Attribute::Part)
    }

    pub fn vendor(&self) -> &AttrValue {
        self.get(Attribute::Vendor)
    }

    pub fn product(&self) -> &AttrValue {
        self.get(Attribute::Product)
    }

    pub fn version(&self) -> &AttrValue {
        self.get(Attribute::Version)
    }

    /// The same name with another version (for example ANY, so that a range
    /// check elsewhere decides the version).
    pub fn with_version(mut self, version: AttrValue) -> Result<Wfn, CpeError> {
        let version = match version {
            AttrValue::Value(v) => AttrValue::wfn(&v).map_err(|problem| CpeError {
                name: self.to_string(),
                kind: CpeErrorKind::Value {
                    attribute: Attribute::Version,
                    component: v.clone(),
                    problem,
                },
            })?,
            other => other,
        };
        self.set(Attribute::Version, version);
        Ok(self)
    }

    /// `(vendor, product)` without quoting (`prod\:uct` → `prod:uct`), for
    /// indexing; `None` when either is ANY, NA or has wildcards, since such a
    /// name cannot be looked up by one key.
    pub fn vendor_product_key(&self) -> Option<(String, String)> {
        Some((self.vendor().unquoted()?, self.product().unquoted()?))
    }

    fn set(&mut self, attr: Attribute, value: AttrValue) {
        if let Some(slot) = self.attrs.get_mut(attr.index()) {
            *slot = value;
        }
    }

    fn check_part(&self, name: &str) -> Result<(), CpeError> {
        match self.part() {
            AttrValue::Any => Ok(()),
            AttrValue::Value(v) if matches!(v.as_str(), "a" | "o" | "h") => Ok(()),
            other => Err(CpeError {
                name: name.to_string(),
                kind: CpeErrorKind::Part {
                    component: bind_formatted(other),
                },
            }),
        }
    }
}

/// Binds to the formatted string (`cpe:2.3:…`), which parses back to the same WFN.
impl fmt::Display for Wfn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cpe:2.3")?;
        for value in &self.attrs {
            write!(f, ":{}", bind_formatted(value))?;
        }
        Ok(())
    }
}

impl FromStr for Wfn {
    type Err = CpeError;

    fn from_str(s: &str) -> Result<Wfn, CpeError> {
        Wfn::parse(s)
    }
}

/// How a source attribute value relates to a target one (IR 7696 §6.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Relation {
    /// The source covers the target and more.
    Superset,
    /// The target covers the source and more.
    Subset,
    Equal,
    Disjoint,
    /// The target has wildcards, which IR 7696 does not compare.
    Undefined,
}

/// Compare one attribute value of a source name with a target's (IR 7696
/// Table 6-2). Values are compared case-insensitively; a run of n leading or
/// trailing `?` in the source matches up to n characters, as IR 7696's
/// `compare_strings` does, and `*` matches any number.
pub fn compare_attr(source: &AttrValue, target: &AttrValue) -> Relation {
    let tgt = target.as_wfn().map(tokens);
    if tgt
        .as_ref()
        .is_some_and(|t| t.iter().any(|t| !matches!(t, Tok::Lit(_))))
    {
        return Relation::Undefined;
    }
    let src = source.as_wfn().map(tokens);
    match (source, target) {
        (AttrValue::Any, AttrValue::Any) | (AttrValue::Na, AttrValue::Na) => Relation::Equal,
        (AttrValue::Value(_), AttrValue::Value(_)) if src == tgt => Relation::Equal,
        (AttrValue::Any, _) => Relation::Superset,
        (_, AttrValue::Any) => Relation::Subset,
        (AttrValue::Na, _) | (_, AttrValue::Na) => Relation::Disjoint,
        (AttrValue::Value(_), AttrValue::Value(_)) => match (src, tgt) {
            (Some(s), Some(t)) => compare_tokens(&s, &t),
            _ => Relation::Disjoint,
        },
    }
}

/// Compare every attribute of `source` with `target`'s (IR 7696 §6.1), in
/// [`Attribute::ALL`] order.
pub fn compare(source: &Wfn, target: &Wfn) -> [Relation; 11] {
    std::array::from_fn(|i| match (source.attrs.get(i), target.attrs.get(i)) {
        (Some(s), Some(t)) => compare_attr(s, t),
        _ => Relation::Undefined,
    })
}

/// Whether `pattern` (the source, e.g. an NVD `cpeMatch.criteria`) names
/// `candidate` (the target, e.g. an inventory item): IR 7696's CPE_SUPERSET
/// or CPE_EQUAL, every attribute a superset or equal.
pub fn is_match(pattern: &Wfn, candidate: &Wfn) -> bool {
    compare(pattern, candidate)
        .iter()
        .all(|r| matches!(r, Relation::Superset | Relation::Equal))
}

/// [`is_match`] with some attributes left out of the comparison. NVD range
/// criteria leave out the version (their bounds decide it); an inventory
/// name whose part is ANY (the member did not say application, OS or
/// hardware) leaves out the part. Equivalent to setting those attributes to
/// ANY on both sides, without building either name.
pub fn is_match_skipping(pattern: &Wfn, candidate: &Wfn, skip: &[Attribute]) -> bool {
    (0..11)
        .filter(|&i| !skip.iter().any(|a| a.index() == i))
        .all(|i| match (pattern.attrs.get(i), candidate.attrs.get(i)) {
            (Some(s), Some(t)) => {
                matches!(compare_attr(s, t), Relation::Superset | Relation::Equal)
            }
            _ => false,
        })
}

/// [`is_match`] with the version left out: what NVD range criteria need.
pub fn is_match_except_version(pattern: &Wfn, candidate: &Wfn) -> bool {
    is_match_skipping(pattern, candidate, &[Attribute::Version])
}

// ---------------------------------------------------------------------------
// Value strings as logical characters.

/// One logical character of a value string: a literal (quoted or not) or an
/// unquoted wildcard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Lit(char),
    Star,
    Quest,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Syntax {
    /// A WFN value string: only letters, digits and `_` unquoted.
    Wfn,
    /// A formatted-string component: `.` and `-` may also appear unquoted.
    Formatted,
}

fn check_char(c: char) -> Result<(), ValueProblem> {
    if !c.is_ascii() {
        Err(ValueProblem::NonAscii(c))
    } else if !c.is_ascii_graphic() {
        Err(ValueProblem::NotPrintable(c))
    } else {
        Ok(())
    }
}

/// Read a backslash-quoted value (WFN or formatted string) strictly.
fn scan_quoted(value: &str, syntax: Syntax) -> Result<Vec<Tok>, ValueProblem> {
    let mut out = Vec::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        check_char(c)?;
        let tok = match c {
            '\\' => {
                let q = chars.next().ok_or(ValueProblem::TrailingBackslash)?;
                check_char(q)?;
                if q.is_ascii_alphanumeric() {
                    return Err(ValueProblem::NeedlessQuote(q));
                }
                Tok::Lit(q)
            }
            '*' => Tok::Star,
            '?' => Tok::Quest,
            c if c.is_ascii_alphanumeric() || c == '_' => Tok::Lit(c.to_ascii_lowercase()),
            '.' | '-' if syntax == Syntax::Formatted => Tok::Lit(c),
            other => return Err(ValueProblem::UnquotedSpecial(other)),
        };
        out.push(tok);
    }
    Ok(out)
}

/// Read one URI component (not `-`, not empty) strictly.
fn scan_uri(value: &str) -> Result<Vec<Tok>, ValueProblem> {
    let mut out = Vec::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        check_char(c)?;
        let tok = match c {
            '%' => {
                let hex: String = chars.by_ref().take(2).collect();
                hex.chars().try_for_each(check_char)?;
                let bad = || ValueProblem::BadPercentEncoding(format!("%{hex}"));
                if hex.len() != 2 || !hex.chars().all(|h| h.is_ascii_hexdigit()) {
                    return Err(bad());
                }
                match u8::from_str_radix(&hex, 16).map_err(|_| bad())? {
                    0x01 => Tok::Quest,
                    0x02 => Tok::Star,
                    b if b.is_ascii_punctuation() => Tok::Lit(char::from(b)),
                    _ => return Err(bad()),
                }
            }
            c if c.is_ascii_alphanumeric() => Tok::Lit(c.to_ascii_lowercase()),
            '.' | '-' | '_' | '~' => Tok::Lit(c),
            other => return Err(ValueProblem::UnquotedSpecial(other)),
        };
        out.push(tok);
    }
    Ok(out)
}

fn uri_value(comp: &str) -> Result<AttrValue, ValueProblem> {
    match comp {
        "" => Ok(AttrValue::Any),
        "-" => Ok(AttrValue::Na),
        _ => Ok(AttrValue::Value(assemble(&scan_uri(comp)?)?)),
    }
}

/// Read a value string leniently, for values already checked (or, from a
/// hand-built `AttrValue`, not): never fails.
fn tokens(value: &str) -> Vec<Tok> {
    let mut out = Vec::with_capacity(value.len());
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        out.push(match c {
            '\\' => Tok::Lit(chars.next().unwrap_or('\\').to_ascii_lowercase()),
            '*' => Tok::Star,
            '?' => Tok::Quest,
            c => Tok::Lit(c.to_ascii_lowercase()),
        });
    }
    out
}

/// The leading wildcards: one `*` or a run of `?`.
fn split_lead(toks: &[Tok]) -> (&[Tok], &[Tok]) {
    let n = match toks.first() {
        Some(Tok::Star) => 1,
        _ => toks.iter().take_while(|t| **t == Tok::Quest).count(),
    };
    toks.split_at(n.min(toks.len()))
}

/// The trailing wildcards: one `*` or a run of `?`.
fn split_trail(toks: &[Tok]) -> (&[Tok], &[Tok]) {
    let n = match toks.last() {
        Some(Tok::Star) => 1,
        _ => toks.iter().rev().take_while(|t| **t == Tok::Quest).count(),
    };
    toks.split_at(toks.len().saturating_sub(n))
}

/// Check wildcard placement and write the value in canonical WFN form.
fn assemble(toks: &[Tok]) -> Result<String, ValueProblem> {
    if toks.is_empty() {
        return Err(ValueProblem::Empty);
    }
    let (_, rest) = split_lead(toks);
    let (body, _) = split_trail(rest);
    if let Some(wild) = body.iter().find(|t| !matches!(t, Tok::Lit(_))) {
        return Err(ValueProblem::EmbeddedWildcard(if *wild == Tok::Star {
            '*'
        } else {
            '?'
        }));
    }
    if body.is_empty() && toks.contains(&Tok::Star) {
        return Err(ValueProblem::OnlyWildcards);
    }
    if toks == [Tok::Lit('-')] {
        return Err(ValueProblem::LoneHyphen);
    }
    let mut out = String::with_capacity(toks.len() * 2);
    for tok in toks {
        match tok {
            Tok::Lit(c) if c.is_ascii_alphanumeric() || *c == '_' => out.push(*c),
            Tok::Lit(c) => {
                out.push('\\');
                out.push(*c);
            }
            Tok::Star => out.push('*'),
            Tok::Quest => out.push('?'),
        }
    }
    Ok(out)
}

/// Bind one value to a formatted-string component.
fn bind_formatted(value: &AttrValue) -> String {
    match value {
        AttrValue::Any => "*".to_string(),
        AttrValue::Na => "-".to_string(),
        AttrValue::Value(v) => {
            let mut out = String::with_capacity(v.len());
            for tok in tokens(v) {
                match tok {
                    Tok::Lit(c) if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') => {
                        out.push(c)
                    }
                    Tok::Lit(c) => {
                        out.push('\\');
                        out.push(c);
                    }
                    Tok::Star => out.push('*'),
                    Tok::Quest => out.push('?'),
                }
            }
            out
        }
    }
}

/// Split a formatted string's components on unquoted colons.
fn split_formatted(rest: &str) -> Vec<String> {
    let mut comps = vec![String::new()];
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        match c {
            ':' => comps.push(String::new()),
            _ => {
                if let Some(cur) = comps.last_mut() {
                    cur.push(c);
                    if c == '\\'
                        && let Some(q) = chars.next()
                    {
                        cur.push(q);
                    }
                }
            }
        }
    }
    comps
}

fn strip_prefix_ci<'a>(s: &'a str, prefix: &str) -> Option<&'a str> {
    let head = s.get(..prefix.len())?;
    if head.eq_ignore_ascii_case(prefix) {
        s.get(prefix.len()..)
    } else {
        None
    }
}

/// Match a source pattern against a wildcard-free target.
fn compare_tokens(src: &[Tok], tgt: &[Tok]) -> Relation {
    let (lead, rest) = split_lead(src);
    let (body, trail) = split_trail(rest);
    if lead.is_empty() && trail.is_empty() {
        return if src == tgt {
            Relation::Equal
        } else {
            Relation::Disjoint
        };
    }
    // None: any number of characters (`*`); Some(n): at most n (`?` × n).
    let limit = |w: &[Tok]| {
        if w == [Tok::Star] {
            None
        } else {
            Some(w.len())
        }
    };
    let (lead_max, trail_max) = (limit(lead), limit(trail));
    let Some(last_start) = tgt.len().checked_sub(body.len()) else {
        return Relation::Disjoint;
    };
    for start in 0..=last_start {
        if lead_max.is_some_and(|max| start > max) {
            break;
        }
        let after = last_start - start;
        if tgt.get(start..start + body.len()) == Some(body)
            && trail_max.is_none_or(|max| after <= max)
        {
            return Relation::Superset;
        }
    }
    Relation::Disjoint
}

#[cfg(test)]
mod tests {
    use super::*;
    use AttrValue::{Any, Na};
    use Relation::*;
    use proptest::prelude::*;

    fn v(s: &str) -> AttrValue {
        AttrValue::Value(s.to_string())
    }

    fn fs(s: &str) -> Wfn {
        Wfn::parse_formatted(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    fn kind(s: &str) -> CpeErrorKind {
        match Wfn::parse(s) {
            Ok(w) => panic!("{s} parsed as {w:?}"),
            Err(e) => e.kind,
        }
    }

    fn problem(s: &str) -> (Attribute, ValueProblem) {
        match kind(s) {
            CpeErrorKind::Value {
                attribute, problem, ..
            } => (attribute, problem),
            other => panic!("{s}: expected a value problem, got {other:?}"),
        }
    }

    // ---- parsing real names -------------------------------------------------

    #[test]
    fn parses_corpus_formatted_strings() {
        let w = fs("cpe:2.3:o:paloaltonetworks:pan-os:11.1.0:h1:*:*:*:*:*:*");
        assert_eq!(w.part(), &v("o"));
        assert_eq!(w.vendor(), &v("paloaltonetworks"));
        assert_eq!(w.product(), &v("pan\\-os"));
        assert_eq!(w.version(), &v("11\\.1\\.0"));
        assert_eq!(w.get(Attribute::Update), &v("h1"));
        for attr in &Attribute::ALL[5..] {
            assert_eq!(w.get(*attr), &Any, "{attr}");
        }

        let w = fs("cpe:2.3:a:apache:log4j:2.0:beta9:*:*:*:*:*:*");
        assert_eq!(w.version(), &v("2\\.0"));
        assert_eq!(w.get(Attribute::Update), &v("beta9"));

        let w = fs("cpe:2.3:a:microsoft:windows_10:-:*:*:*:*:*:*:*");
        assert_eq!(w.product(), &v("windows_10"));
        assert_eq!(w.version(), &Na);

        let w = fs("cpe:2.3:a:vendor:prod\\:uct:1.0:*:*:*:*:*:*:*");
        assert_eq!(w.product(), &v("prod\\:uct"));
        assert_eq!(w.version(), &v("1\\.0"));
        assert_eq!(
            w.vendor_product_key(),
            Some(("vendor".to_string(), "prod:uct".to_string()))
        );
    }

    #[test]
    fn formatted_strings_round_trip_through_display() {
        for s in [
            "cpe:2.3:o:paloaltonetworks:pan-os:11.1.0:h1:*:*:*:*:*:*",
            "cpe:2.3:a:apache:log4j:2.0:beta9:*:*:*:*:*:*",
            "cpe:2.3:a:microsoft:windows_10:-:*:*:*:*:*:*:*",
            "cpe:2.3:a:vendor:prod\\:uct:1.0:*:*:*:*:*:*:*",
            "cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003:x64:*",
            "cpe:2.3:a:foo\\\\bar:big\\$money:2010:*:*:*:special:ipod_touch:80gb:*",
            "cpe:2.3:a:microsoft:internet_explorer:8.*:sp?:*:*:*:*:*:*",
            "cpe:2.3:h:*:*:*:*:*:*:*:*:*:*",
        ] {
            let w = fs(s);
            assert_eq!(w.to_string(), s);
            assert_eq!(Wfn::parse(&w.to_string()), Ok(w));
        }
    }

    #[test]
    fn formatted_parse_lowercases_and_accepts_quoted_punctuation() {
        let w = fs("CPE:2.3:A:Microsoft:Internet_Explorer:8\\.0\\.6001:Beta:*:*:*:*:*:*");
        assert_eq!(w.vendor(), &v("microsoft"));
        assert_eq!(w.version(), &v("8\\.0\\.6001"));
        assert_eq!(w.get(Attribute::Update), &v("beta"));
        let w = fs("cpe:2.3:a:x:y\\!z\\(1\\):*:*:*:*:*:*:*:*");
        assert_eq!(w.product(), &v("y\\!z\\(1\\)"));
        assert_eq!(w.to_string(), "cpe:2.3:a:x:y\\!z\\(1\\):*:*:*:*:*:*:*:*");
        // A quoted wildcard is a literal character, not a wildcard.
        let w = fs("cpe:2.3:a:x:y\\*:*:*:*:*:*:*:*:*");
        assert!(!w.product().has_wildcards());
        assert_eq!(w.product().unquoted().as_deref(), Some("y*"));
    }

    #[test]
    fn parses_uri_bindings() {
        let w = Wfn::parse("cpe:/o:redhat:enterprise_linux:7::server").unwrap();
        assert_eq!(w.part(), &v("o"));
        assert_eq!(w.product(), &v("enterprise_linux"));
        assert_eq!(w.version(), &v("7"));
        assert_eq!(w.get(Attribute::Update), &Any);
        assert_eq!(w.get(Attribute::Edition), &v("server"));
        assert_eq!(w.get(Attribute::Language), &Any);
        assert_eq!(
            w.to_string(),
            "cpe:2.3:o:redhat:enterprise_linux:7:*:server:*:*:*:*:*"
        );

        // IR 7695's packed-edition example.
        let w =
            Wfn::parse("cpe:/a:hp:insight_diagnostics:7.4.0.1570:-:~~online~win2003~x64~").unwrap();
        assert_eq!(w.version(), &v("7\\.4\\.0\\.1570"));
        assert_eq!(w.get(Attribute::Update), &Na);
        assert_eq!(w.get(Attribute::Edition), &Any);
        assert_eq!(w.get(Attribute::SwEdition), &v("online"));
        assert_eq!(w.get(Attribute::TargetSw), &v("win2003"));
        assert_eq!(w.get(Attribute::TargetHw), &v("x64"));
        assert_eq!(w.get(Attribute::Other), &Any);
        assert_eq!(
            w,
            fs("cpe:2.3:a:hp:insight_diagnostics:7.4.0.1570:-:*:*:online:win2003:x64:*")
        );

        // Percent-encoding, wildcards and a literal tilde.
        let w = Wfn::parse("cpe:/a:foo%5cbar:big%24money_2010:8.%02:sp%01").unwrap();
        assert_eq!(w.vendor(), &v("foo\\\\bar"));
        assert_eq!(w.product(), &v("big\\$money_2010"));
        assert_eq!(w.version(), &v("8\\.*"));
        assert_eq!(w.get(Attribute::Update), &v("sp?"));
        let w = Wfn::parse("cpe:/a:foo~bar:big%7emoney_2010").unwrap();
        assert_eq!(w.vendor(), &v("foo\\~bar"));
        assert_eq!(w.product(), &v("big\\~money_2010"));

        // Missing and empty components are ANY.
        assert_eq!(Wfn::parse("cpe:/").unwrap(), Wfn::any());
        let w = Wfn::parse("cpe:/a:apache").unwrap();
        assert_eq!(w.product(), &Any);
        assert_eq!(
            Wfn::parse("CPE:/A:Apache:Tomcat").unwrap().product(),
            &v("tomcat")
        );
    }

    // ---- bad input ---------------------------------------------------------

    #[test]
    fn rejects_wrong_prefixes() {
        for s in [
            "",
            "cpe",
            "cpe:2.3",
            "cpe:2.2:a:b:c:*:*:*:*:*:*:*:*",
            "a:b:c",
            "cpe:2.3a:b:c:*:*:*:*:*:*:*:*",
            "éé:2.3:a",
        ] {
            assert_eq!(kind(s), CpeErrorKind::Prefix, "{s}");
        }
        assert_eq!(
            Wfn::parse_uri("cpe:2.3:a:b:c:*:*:*:*:*:*:*:*")
                .unwrap_err()
                .kind,
            CpeErrorKind::Prefix
        );
        assert_eq!(
            Wfn::parse_formatted("cpe:/a:b").unwrap_err().kind,
            CpeErrorKind::Prefix
        );
    }

    #[test]
    fn rejects_wrong_component_counts() {
        let count = |s: &str| match kind(s) {
            CpeErrorKind::ComponentCount { binding, found } => (binding, found),
            other => panic!("{s}: {other:?}"),
        };
        use Binding::*;
        assert_eq!(count("cpe:2.3:a:b:c:*:*:*:*:*:*:*"), (FormattedString, 10));
        assert_eq!(
            count("cpe:2.3:a:b:c:*:*:*:*:*:*:*:*:*"),
            (FormattedString, 12)
        );
        assert_eq!(count("cpe:2.3:"), (FormattedString, 1));
        // An escaped colon does not separate components.
        assert_eq!(
            count("cpe:2.3:a:b:c\\:d:*:*:*:*:*:*:*"),
            (FormattedString, 10)
        );
        assert_eq!(count("cpe:/a:b:c:d:e:f:g:h"), (Uri, 8));
        let e = Wfn::parse("cpe:2.3:a:b:c:*:*:*:*:*:*:*").unwrap_err();
        assert!(e.to_string().contains("10 components"), "{e}");
    }

    #[test]
    fn rejects_bad_formatted_values() {
        use Attribute::*;
        use ValueProblem::*;
        let name = |vendor: &str| format!("cpe:2.3:a:{vendor}:p:*:*:*:*:*:*:*:*");
        assert_eq!(problem(&name("ven!dor")), (Vendor, UnquotedSpecial('!')));
        assert_eq!(problem(&name("a/b")), (Vendor, UnquotedSpecial('/')));
        assert_eq!(problem(&name("a~b")), (Vendor, UnquotedSpecial('~')));
        assert_eq!(problem(&name("1*0")), (Vendor, EmbeddedWildcard('*')));
        assert_eq!(problem(&name("a?b")), (Vendor, EmbeddedWildcard('?')));
        assert_eq!(problem(&name("a**")), (Vendor, EmbeddedWildcard('*')));
        assert_eq!(problem(&name("**")), (Vendor, OnlyWildcards));
        assert_eq!(problem(&name("café")), (Vendor, NonAscii('é')));
        assert_eq!(problem(&name("a b")), (Vendor, NotPrintable(' ')));
        assert_eq!(problem(&name("a\tb")), (Vendor, NotPrintable('\t')));
        assert_eq!(problem(&name("\\a")), (Vendor, NeedlessQuote('a')));
        assert_eq!(problem(&name("\\-")), (Vendor, LoneHyphen));
        assert_eq!(problem(&name("")), (Vendor, Empty));
        assert_eq!(
            problem("cpe:2.3:a:v:p:*:*:*:*:*:*:*:x\\"),
            (Other, TrailingBackslash)
        );
        assert_eq!(
            problem("cpe:2.3:a:v:p:*:*:*:*:*:*:*:x\\é"),
            (Other, NonAscii('é'))
        );
        let e = Wfn::parse(&name("ven!dor")).unwrap_err();
        assert!(e.to_string().contains("vendor 'ven!dor'"), "{e}");
    }

    #[test]
    fn rejects_bad_parts() {
        for (s, comp) in [
            ("cpe:2.3:x:v:p:*:*:*:*:*:*:*:*", "x"),
            ("cpe:2.3:-:v:p:*:*:*:*:*:*:*:*", "-"),
            ("cpe:2.3:ao:v:p:*:*:*:*:*:*:*:*", "ao"),
            ("cpe:2.3:?:v:p:*:*:*:*:*:*:*:*", "?"),
            ("cpe:/x:v", "x"),
            ("cpe:/-:v", "-"),
        ] {
            assert_eq!(
                kind(s),
                CpeErrorKind::Part {
                    component: comp.to_string()
                },
                "{s}"
            );
        }
    }

    #[test]
    fn rejects_bad_uri_values() {
        use Attribute::*;
        use ValueProblem::*;
        assert_eq!(
            problem("cpe:/a:foo%5cbar:big%24money_2010%07"),
            (Product, BadPercentEncoding("%07".into()))
        );
        assert_eq!(
            problem("cpe:/a:v%zz"),
            (Vendor, BadPercentEncoding("%zz".into()))
        );
        assert_eq!(
            problem("cpe:/a:v%4"),
            (Vendor, BadPercentEncoding("%4".into()))
        );
        assert_eq!(
            problem("cpe:/a:v%"),
            (Vendor, BadPercentEncoding("%".into()))
        );
        assert_eq!(
            problem("cpe:/a:v%+1"),
            (Vendor, BadPercentEncoding("%+1".into()))
        );
        assert_eq!(
            problem("cpe:/a:v%41"),
            (Vendor, BadPercentEncoding("%41".into()))
        );
        assert_eq!(problem("cpe:/a:v%é1"), (Vendor, NonAscii('é')));
        assert_eq!(
            problem("cpe:/a:foo:bar:12.%02.1234"),
            (Version, EmbeddedWildcard('*'))
        );
        assert_eq!(
            problem("cpe:/a:foo:bar:1*"),
            (Version, UnquotedSpecial('*'))
        );
        assert_eq!(problem("cpe:/a:foo:bar:1 2"), (Version, NotPrintable(' ')));
        assert_eq!(
            problem("cpe:/a:foo:bar:1:2:~x~y~z~w~%zz"),
            (Other, BadPercentEncoding("%zz".into()))
        );
        assert_eq!(
            kind("cpe:/a:hp:diag:1:-:~~online~win2003~x64"),
            CpeErrorKind::PackedEdition {
                component: "~~online~win2003~x64".into(),
                found: 4
            }
        );
        assert_eq!(
            kind("cpe:/a:hp:diag:1:-:~a~b~c~d~e~f"),
            CpeErrorKind::PackedEdition {
                component: "~a~b~c~d~e~f".into(),
                found: 6
            }
        );
    }

    #[test]
    fn constructors_check_values() {
        let w = Wfn::new([
            v("A"),
            v("Apache"),
            v("log4j"),
            v("2\\.0"),
            Any,
            Any,
            Any,
            Any,
            Any,
            Any,
            Na,
        ])
        .unwrap();
        assert_eq!(w.to_string(), "cpe:2.3:a:apache:log4j:2.0:*:*:*:*:*:*:-");
        let mut attrs: [AttrValue; 11] = std::array::from_fn(|_| Any);
        attrs[3] = v("2.0");
        assert!(matches!(
            Wfn::new(attrs).unwrap_err().kind,
            CpeErrorKind::Value {
                attribute: Attribute::Version,
                problem: ValueProblem::UnquotedSpecial('.'),
                ..
            }
        ));
        let mut attrs: [AttrValue; 11] = std::array::from_fn(|_| Any);
        attrs[0] = Na;
        assert!(matches!(
            Wfn::new(attrs).unwrap_err().kind,
            CpeErrorKind::Part { .. }
        ));

        assert_eq!(AttrValue::literal("Log4j-Core"), Ok(v("log4j\\-core")));
        assert_eq!(AttrValue::literal("2.14.1*"), Ok(v("2\\.14\\.1\\*")));
        assert_eq!(
            AttrValue::literal("a b"),
            Err(ValueProblem::NotPrintable(' '))
        );
        assert_eq!(AttrValue::literal(""), Err(ValueProblem::Empty));
        assert_eq!(AttrValue::wfn("7\\.*"), Ok(v("7\\.*")));
        assert_eq!(
            AttrValue::wfn("7.*"),
            Err(ValueProblem::UnquotedSpecial('.'))
        );
    }

    #[test]
    fn with_version_and_keys() {
        let w = fs("cpe:2.3:a:apache:log4j:2.0:beta9:*:*:*:*:*:*");
        let any = w.clone().with_version(Any).unwrap();
        assert_eq!(any.version(), &Any);
        assert_eq!(any.get(Attribute::Update), &v("beta9"));
        let w2 = w.clone().with_version(v("2\\.1")).unwrap();
        assert_eq!(
            w2.to_string(),
            "cpe:2.3:a:apache:log4j:2.1:beta9:*:*:*:*:*:*"
        );
        assert!(w.clone().with_version(v("2 1")).is_err());
        assert_eq!(
            w.vendor_product_key(),
            Some(("apache".to_string(), "log4j".to_string()))
        );
        assert_eq!(
            fs("cpe:2.3:a:*:log4j:*:*:*:*:*:*:*:*").vendor_product_key(),
            None
        );
        assert_eq!(
            fs("cpe:2.3:a:apache:-:*:*:*:*:*:*:*:*").vendor_product_key(),
            None
        );
        assert_eq!(
            fs("cpe:2.3:a:apache:log4*:*:*:*:*:*:*:*:*").vendor_product_key(),
            None
        );
        assert_eq!(
            fs("cpe:2.3:o:paloaltonetworks:pan-os:*:*:*:*:*:*:*:*").vendor_product_key(),
            Some(("paloaltonetworks".to_string(), "pan-os".to_string()))
        );
    }

    // ---- matching -------------------------------------------------------------

    #[test]
    fn attribute_comparison_follows_ir7696_table() {
        let i = v("i");
        let k = v("k");
        let wild = v("m*");
        // Rows 1–17 of IR 7696's attribute comparison table.
        let rows: [(&AttrValue, &AttrValue, Relation); 17] = [
            (&Any, &Any, Equal),
            (&Any, &Na, Superset),
            (&Any, &i, Superset),
            (&Any, &wild, Undefined),
            (&Na, &Any, Subset),
            (&Na, &Na, Equal),
            (&Na, &i, Disjoint),
            (&Na, &wild, Undefined),
            (&i, &Any, Subset),
            (&i, &Na, Disjoint),
            (&i, &i, Equal),
            (&i, &k, Disjoint),
            (&i, &wild, Undefined),
            (&wild, &Any, Subset),
            (&wild, &Na, Disjoint),
            (&wild, &v("mango"), Superset),
            (&wild, &v("m2\\*"), Superset),
        ];
        for (n, (s, t, want)) in rows.iter().enumerate() {
            assert_eq!(compare_attr(s, t), *want, "row {}: {s:?} vs {t:?}", n + 1);
        }
        assert_eq!(compare_attr(&wild, &v("kiwi")), Disjoint);
        assert_eq!(compare_attr(&wild, &v("n?")), Undefined);
    }

    #[test]
    fn wildcard_values_match_as_ir7696_describes() {
        let c = |s: &str, t: &str| compare_attr(&v(s), &v(t));
        assert_eq!(c("7\\.*", "7\\.1"), Superset);
        assert_eq!(c("7\\.*", "7\\.1\\.2"), Superset);
        assert_eq!(c("7\\.*", "8\\.1"), Disjoint);
        assert_eq!(c("7\\.*", "17\\.1"), Disjoint);
        assert_eq!(c("*\\.1", "17\\.1"), Superset);
        assert_eq!(c("*log4j*", "apache_log4j_core"), Superset);
        assert_eq!(c("*log4j*", "log4j"), Superset);
        assert_eq!(c("?\\.1", "7\\.1"), Superset);
        assert_eq!(c("?\\.1", "17\\.1"), Disjoint);
        assert_eq!(c("sp?", "sp1"), Superset);
        assert_eq!(c("sp?", "sp"), Superset);
        assert_eq!(c("sp?", "sp12"), Disjoint);
        assert_eq!(c("sp??", "sp12"), Superset);
        assert_eq!(c("??", "ab"), Superset);
        assert_eq!(c("??", "abc"), Disjoint);
        assert_eq!(c("?", "a\\."), Disjoint);
        // A quoted character counts as one character.
        assert_eq!(c("?a", "\\.a"), Superset);
        // Quoted specials are literals on both sides.
        assert_eq!(c("prod\\:uct", "prod\\:uct"), Equal);
        assert_eq!(c("prod\\:uct", "prod_uct"), Disjoint);
        assert_eq!(c("a\\*", "ab"), Disjoint);
        assert_eq!(c("a\\*", "a\\*"), Equal);
        assert_eq!(c("a\\?", "a\\?"), Equal);
        // Case does not matter.
        assert_eq!(c("Log4J", "log4j"), Equal);
        assert_eq!(c("LOG*", "log4j"), Superset);
    }

    #[test]
    fn names_match_nvd_style_criteria() {
        let criteria = fs("cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*");
        let item = fs("cpe:2.3:a:apache:log4j:2.0:beta9:*:*:*:*:*:*");
        assert!(is_match(&criteria, &item));
        assert!(!is_match(&item, &criteria));
        assert_eq!(
            compare(&item, &criteria)[3..5],
            [Subset, Subset],
            "item is a subset of the criteria"
        );
        assert!(!is_match(
            &criteria,
            &fs("cpe:2.3:a:apache:tomcat:9.0:*:*:*:*:*:*:*")
        ));
        assert!(!is_match(
            &criteria,
            &fs("cpe:2.3:o:apache:log4j:2.0:*:*:*:*:*:*:*")
        ));
        assert!(is_match(
            &criteria,
            &Wfn::parse("cpe:/a:apache:log4j:2.0").unwrap()
        ));

        // NA is "has no value": it does not match a value.
        let na = fs("cpe:2.3:a:microsoft:windows_10:-:*:*:*:*:*:*:*");
        assert!(is_match(&na, &na));
        assert!(!is_match(
            &na,
            &fs("cpe:2.3:a:microsoft:windows_10:1809:*:*:*:*:*:*:*")
        ));
        let no_sw_edition = fs("cpe:2.3:a:oneidentity:syslog-ng:*:*:*:*:-:*:*:*");
        assert!(!is_match(
            &no_sw_edition,
            &fs("cpe:2.3:a:oneidentity:syslog-ng:4.7.1:*:*:*:premium:*:*:*")
        ));

        // A versioned criteria with a wildcard.
        let pan = fs("cpe:2.3:o:paloaltonetworks:pan-os:11.1.*:*:*:*:*:*:*:*");
        assert!(is_match(
            &pan,
            &fs("cpe:2.3:o:paloaltonetworks:pan-os:11.1.0:h1:*:*:*:*:*:*")
        ));
        assert!(!is_match(
            &pan,
            &fs("cpe:2.3:o:paloaltonetworks:pan-os:11.2.0:*:*:*:*:*:*:*")
        ));

        // A target with wildcards is undefined, so never a match.
        let r = compare(&criteria, &pan);
        assert_eq!(r[1], Disjoint);
        assert_eq!(r[3], Undefined);
        assert!(!is_match(&Wfn::any(), &pan));
    }

    // ---- properties -----------------------------------------------------------

    fn lit_unit() -> impl Strategy<Value = String> {
        prop_oneof![
            4 => "[a-z0-9_]".prop_map(|s| s),
            2 => prop::sample::select(vec![
                "\\.", "\\-", "\\:", "\\*", "\\?", "\\\\", "\\!", "\\~", "\\/", "\\%", "\\\"", "\\'",
            ])
            .prop_map(str::to_string),
        ]
    }

    fn wild() -> impl Strategy<Value = &'static str> {
        prop::sample::select(vec!["", "", "", "*", "?", "??"])
    }

    fn value(wildcards: bool) -> impl Strategy<Value = AttrValue> {
        let body = prop::collection::vec(lit_unit(), 1..6).prop_map(|u| u.concat());
        let val = (wild(), body, wild()).prop_filter_map("lone hyphen", move |(l, b, t)| {
            if b == "\\-" && l.is_empty() && t.is_empty() {
                return None;
            }
            Some(if wildcards {
                AttrValue::Value(format!("{l}{b}{t}"))
            } else {
                AttrValue::Value(b)
            })
        });
        prop_oneof![1 => Just(Any), 1 => Just(Na), 3 => val]
    }

    fn name(wildcards: bool) -> impl Strategy<Value = Wfn> {
        let part = prop::sample::select(vec![Any, v("a"), v("o"), v("h")]);
        (part, prop::collection::vec(value(wildcards), 10)).prop_filter_map(
            "valid name",
            |(p, rest)| {
                let mut attrs: [AttrValue; 11] = std::array::from_fn(|_| Any);
                attrs[0] = p;
                for (slot, val) in attrs[1..].iter_mut().zip(rest) {
                    *slot = val;
                }
                Wfn::new(attrs).ok()
            },
        )
    }

    proptest! {
        #[test]
        fn formatted_string_round_trips(w in name(true)) {
            let shown = w.to_string();
            prop_assert_eq!(Wfn::parse_formatted(&shown), Ok(w.clone()));
            prop_assert_eq!(Wfn::parse(&shown).map(|x| x.to_string()), Ok(shown));
        }

        #[test]
        fn a_name_equals_itself(w in name(false)) {
            prop_assert!(compare(&w, &w).iter().all(|r| *r == Equal));
            prop_assert!(is_match(&w, &w));
        }

        #[test]
        fn any_matches_every_name(w in name(false)) {
            prop_assert!(is_match(&Wfn::any(), &w));
        }

        #[test]
        fn parsing_never_panics(s in "\\PC{0,60}") {
            let _ = Wfn::parse(&s);
            let _ = Wfn::parse(&format!("cpe:2.3:{s}"));
            let _ = Wfn::parse(&format!("cpe:/{s}"));
        }

        #[test]
        fn whatever_parses_round_trips(
            comps in prop::collection::vec("[a-z0-9*?\\\\:.%~!_-]{0,5}", 11),
            uri in "[a-z0-9*?\\\\:.%~!_0-2-]{0,30}",
        ) {
            if let Ok(w) = Wfn::parse(&format!("cpe:2.3:{}", comps.join(":"))) {
                prop_assert_eq!(Wfn::parse(&w.to_string()), Ok(w.clone()));
            }
            if let Ok(w) = Wfn::parse(&format!("cpe:/{uri}")) {
                prop_assert_eq!(Wfn::parse(&w.to_string()), Ok(w));
            }
        }

        #[test]
        fn comparison_is_total_and_antisymmetric(a in name(true), b in name(true)) {
            let ab = compare(&a, &b);
            let ba = compare(&b, &a);
            for (x, y) in ab.iter().zip(ba.iter()) {
                match (x, y) {
                    (Superset, r) => prop_assert!(matches!(r, Subset | Undefined)),
                    (Equal, r) => prop_assert_eq!(*r, Equal),
                    _ => {}
                }
            }
        }
    }
}

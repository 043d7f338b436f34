//! WARP advisories: warnings written by the WARP's own operators (as SEGWARP
//! does), reviewed by a second operator before they reach anyone.
//!
//! The rules, in one place:
//!
//! - **Workflow.** `draft → in_review → published → withdrawn`; a reviewer
//!   may send an advisory in review back to `draft` with a note saying what to
//!   change. Editing is possible in `draft` and `in_review`, and any edit of
//!   an advisory in review returns it to `draft` (the reviewer must see the
//!   final words). Nothing published is edited: it is withdrawn and a new one
//!   written.
//! - **Who.** Only operators author, review, publish and withdraw. Only the
//!   author edits and submits their advisory (an advisory whose author's
//!   account is gone is adopted by the next operator who edits it). The
//!   operator who requests changes or publishes must be a **different**
//!   operator from the author: four eyes on every word members receive.
//! - **Audience.** Either every member, or the members whose inventory lists
//!   one of the given products (`vendor:product`, a CPE 2.3 name or a package
//!   URL), decided when it is published.
//! - **Visibility** ([`member_may_see`]). Operators see everything. Members
//!   see advisories once published (and, after a withdrawal, still at their
//!   address, marked withdrawn, so links in sent alerts keep working): one
//!   for all members is visible to every member, unless it is `TLP:RED`,
//!   which only the organisations it was sent to may read; one limited to
//!   products is visible only to the organisations it was sent to.
//!
//! Everything here is pure: the store and the web layer call it.

use crate::access::Actor;
use crate::ids::UserId;
use crate::tlp::TlpLabel;
use crate::validation::ValidationErrors;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// The longest summary, in characters.
pub const MAX_SUMMARY: usize = 5000;
/// The longest recommended action, in characters.
pub const MAX_ACTION: usize = 3000;
/// The longest review note, in characters.
pub const MAX_NOTE: usize = 2000;
/// At most this many products in the audience.
pub const MAX_PRODUCTS: usize = 50;
/// At most this many CVE ids.
pub const MAX_CVES: usize = 100;
/// At most this many links.
pub const MAX_LINKS: usize = 20;
const MAX_PRODUCT_LEN: usize = 300;
const MAX_URL_LEN: usize = 2000;
const MAX_LABEL_LEN: usize = 200;

/// Where an advisory is in its workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarpStatus {
    Draft,
    InReview,
    Published,
    Withdrawn,
}

impl WarpStatus {
    pub const ALL: [WarpStatus; 4] = [
        WarpStatus::Draft,
        WarpStatus::InReview,
        WarpStatus::Published,
        WarpStatus::Withdrawn,
    ];

    /// The stored form: `draft`, `in_review`, `published`, `withdrawn`.
    pub fn as_str(self) -> &'static str {
        match self {
            WarpStatus::Draft => "draft",
            WarpStatus::InReview => "in_review",
            WarpStatus::Published => "published",
            WarpStatus::Withdrawn => "withdrawn",
        }
    }

    /// In words, for pages.
    pub fn label(self) -> &'static str {
        match self {
            WarpStatus::Draft => "Draft",
            WarpStatus::InReview => "Awaiting review",
            WarpStatus::Published => "Published",
            WarpStatus::Withdrawn => "Withdrawn",
        }
    }

    pub fn parse(s: &str) -> Option<WarpStatus> {
        WarpStatus::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }
}

impl fmt::Display for WarpStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// Who an advisory is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Audience {
    /// Every member organisation.
    All,
    /// The members whose inventory lists one of the advisory's products.
    Products,
}

impl Audience {
    pub const ALL: [Audience; 2] = [Audience::All, Audience::Products];

    pub fn as_str(self) -> &'static str {
        match self {
            Audience::All => "all",
            Audience::Products => "products",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Audience::All => "All members",
            Audience::Products => "Members whose inventory lists the products",
        }
    }

    pub fn parse(s: &str) -> Option<Audience> {
        Audience::ALL.into_iter().find(|x| x.as_str() == s.trim())
    }
}

/// A product an advisory is about, as the audience is found by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum ProductRef {
    /// `vendor:product`, as text (compared the way inventory text is).
    VendorProduct { vendor: String, product: String },
    /// A CPE 2.3 formatted string naming a vendor and product, padded to
    /// all thirteen components (`cpe:2.3:a:apache:log4j:*:*:*:*:*:*:*:*`).
    Cpe(String),
    /// A package URL without version (`pkg:maven/org.apache.logging.log4j/log4j-core`).
    Package(String),
}

impl ProductRef {
    /// Parse one product as a person typed it. The error says what is wrong.
    pub fn parse(raw: &str) -> Result<ProductRef, String> {
        let s = raw.trim();
        if s.is_empty() {
            return Err("is empty".into());
        }
        if s.chars().count() > MAX_PRODUCT_LEN {
            return Err(format!(
                "'{}…' is longer than {MAX_PRODUCT_LEN} characters",
                short(s)
            ));
        }
        if s.chars().any(char::is_control) {
            return Err(format!("'{}' contains control characters", short(s)));
        }
        let lower = s.to_ascii_lowercase();
        if lower.starts_with("cpe:2.3:") {
            return parse_cpe(s).map(ProductRef::Cpe);
        }
        if lower.starts_with("cpe:") {
            return Err(format!(
                "'{s}' is not a CPE 2.3 name: write it as cpe:2.3:part:vendor:product:…"
            ));
        }
        if lower.starts_with("pkg:") {
            return parse_package(s).map(ProductRef::Package);
        }
        match s.split_once(':') {
            Some((v, p)) if !v.trim().is_empty() && !p.trim().is_empty() && !p.contains(':') => {
                Ok(ProductRef::VendorProduct {
                    vendor: v.trim().to_string(),
                    product: p.trim().to_string(),
                })
            }
            _ => Err(format!(
                "'{s}' is not vendor:product (e.g. fortinet:fortios), a CPE 2.3 name or a package URL"
            )),
        }
    }
}

impl fmt::Display for ProductRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProductRef::VendorProduct { vendor, product } => write!(f, "{vendor}:{product}"),
            ProductRef::Cpe(s) | ProductRef::Package(s) => f.write_str(s),
        }
    }
}

/// Stored and sent as its text.
impl Serialize for ProductRef {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ProductRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        ProductRef::parse(&s).map_err(serde::de::Error::custom)
    }
}

fn short(s: &str) -> String {
    s.chars().take(40).collect()
}

/// Split a CPE formatted string at unescaped colons.
fn cpe_components(s: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut escaped = false;
    for c in s.chars() {
        match c {
            _ if escaped => {
                escaped = false;
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
            '\\' => {
                escaped = true;
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
            ':' => out.push(String::new()),
            _ => {
                if let Some(last) = out.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    out
}

/// A CPE 2.3 formatted string that names a vendor and a product, padded
/// with `*` to thirteen components.
fn parse_cpe(s: &str) -> Result<String, String> {
    let mut parts = cpe_components(s);
    if parts.len() < 5 || parts.len() > 13 {
        return Err(format!(
            "'{s}' is not a CPE 2.3 name: it needs cpe:2.3:part:vendor:product and at most 13 parts"
        ));
    }
    parts[0] = "cpe".into();
    let part = parts[2].to_ascii_lowercase();
    if !matches!(part.as_str(), "a" | "o" | "h" | "*") {
        return Err(format!(
            "'{s}': the part must be a (application), o (operating system) or h (hardware)"
        ));
    }
    parts[2] = part;
    for (i, what) in [(3, "vendor"), (4, "product")] {
        let v = &parts[i];
        let unescaped_wildcard = {
            let mut escaped = false;
            v.chars().any(|c| {
                let wild = !escaped && matches!(c, '*' | '?');
                escaped = !escaped && c == '\\';
                wild
            })
        };
        if v.is_empty() || v == "-" || unescaped_wildcard || v.chars().any(char::is_whitespace) {
            return Err(format!("'{s}': the CPE name must name one {what}"));
        }
    }
    while parts.len() < 13 {
        parts.push("*".into());
    }
    Ok(parts.join(":"))
}

/// A package URL: `pkg:type/name` or `pkg:type/namespace/name`; a version
/// or qualifiers are dropped (the audience is found by package, not version).
fn parse_package(s: &str) -> Result<String, String> {
    let bad = || {
        format!(
            "'{s}' is not a package URL: write it as pkg:type/namespace/name, e.g. pkg:npm/lodash"
        )
    };
    let rest = &s[4..];
    let rest = rest.split(['?', '#']).next().unwrap_or(rest);
    let rest = match rest.rsplit_once('@') {
        Some((before, _)) => before,
        None => rest,
    };
    let rest = rest.trim_start_matches('/');
    let Some((kind, name)) = rest.split_once('/') else {
        return Err(bad());
    };
    if kind.is_empty()
        || !kind
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '+' | '-'))
        || name.trim_matches('/').is_empty()
        || name.chars().any(char::is_whitespace)
    {
        return Err(bad());
    }
    Ok(format!(
        "pkg:{}/{}",
        kind.to_ascii_lowercase(),
        name.trim_matches('/')
    ))
}

/// A CVE id, `CVE-YYYY-NNNN` (four or more digits), upper case.
pub fn parse_cve(raw: &str) -> Option<String> {
    let s = raw.trim().to_ascii_uppercase();
    let rest = s.strip_prefix("CVE-")?;
    let (year, number) = rest.split_once('-')?;
    let digits = |t: &str| !t.is_empty() && t.chars().all(|c| c.is_ascii_digit());
    let year_ok = year.len() == 4 && digits(year) && year >= "1999";
    let number_ok = (4..=19).contains(&number.len()) && digits(number);
    (year_ok && number_ok).then_some(s)
}

/// A link to a source, shown and sent with the advisory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarpLink {
    pub label: String,
    /// An `http` or `https` URL.
    pub url: String,
}

/// A link as given: the label may be empty (the host is used).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkInput {
    #[serde(default)]
    pub label: String,
    pub url: String,
}

impl LinkInput {
    /// One line of a form: a URL, optionally after its label
    /// (`NCSC guidance https://www.ncsc.gov.uk/…`).
    pub fn from_line(line: &str) -> LinkInput {
        let line = line.trim();
        match line.rsplit_once(char::is_whitespace) {
            Some((label, url)) if looks_like_url(url) => LinkInput {
                label: label.trim().to_string(),
                url: url.to_string(),
            },
            _ => LinkInput {
                label: String::new(),
                url: line.to_string(),
            },
        }
    }
}

fn looks_like_url(s: &str) -> bool {
    let l = s.to_ascii_lowercase();
    l.starts_with("http://") || l.starts_with("https://")
}

/// The host of an http(s) URL, if it has one.
fn url_host(url: &str) -> Option<&str> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split(['/', '?', '#']).next()?;
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let host = if host.starts_with('[') {
        host.split_inclusive(']').next()?
    } else {
        host.split(':').next()?
    };
    (!host.is_empty()).then_some(host)
}

fn check_link(l: &LinkInput) -> Result<WarpLink, String> {
    let url = l.url.trim();
    if url.is_empty() {
        return Err("a link has no URL".into());
    }
    if !looks_like_url(url) {
        return Err(format!("'{}' is not an http or https address", short(url)));
    }
    if url.chars().count() > MAX_URL_LEN {
        return Err(format!(
            "'{}…' is longer than {MAX_URL_LEN} characters",
            short(url)
        ));
    }
    if url
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | '"'))
    {
        return Err(format!(
            "'{}' contains spaces or characters URLs may not",
            short(url)
        ));
    }
    let Some(host) = url_host(url) else {
        return Err(format!("'{}' has no host name", short(url)));
    };
    let label = l.label.trim();
    if label.chars().count() > MAX_LABEL_LEN || label.chars().any(char::is_control) {
        return Err(format!(
            "the label of '{}' must be at most {MAX_LABEL_LEN} characters on one line",
            short(url)
        ));
    }
    Ok(WarpLink {
        label: if label.is_empty() {
            host.to_string()
        } else {
            label.to_string()
        },
        url: url.to_string(),
    })
}

/// Text that may run over several lines: trimmed, line ends made `\n`,
/// bounded, and free of other control characters.
pub fn multiline(
    errors: &mut ValidationErrors,
    field: &'static str,
    value: &str,
    max: usize,
) -> String {
    let text = value.replace("\r\n", "\n").replace('\r', "\n");
    let text = text.trim();
    let len = text.chars().count();
    if len == 0 {
        errors.add(field, "is required");
    } else if len > max {
        errors.add(field, format!("must be at most {max} characters"));
    } else if text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        errors.add(field, "must not contain control characters");
    }
    text.to_string()
}

/// An advisory as a person or client gave it, all text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WarpAdvisoryInput {
    pub title: String,
    pub summary: String,
    pub action: String,
    /// A TLP label in any form [`TlpLabel::parse`] reads.
    pub tlp: String,
    /// `P1`–`P4` (or `1`–`4`).
    pub priority: String,
    /// `all` or `products`.
    pub audience: String,
    pub products: Vec<String>,
    pub cves: Vec<String>,
    pub links: Vec<LinkInput>,
}

/// A valid advisory's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WarpAdvisoryDraft {
    pub title: String,
    pub summary: String,
    pub action: String,
    pub tlp: TlpLabel,
    /// 1 = P1 (most urgent) … 4 = P4.
    pub priority: u8,
    pub audience: Audience,
    pub products: Vec<ProductRef>,
    pub cves: Vec<String>,
    pub links: Vec<WarpLink>,
}

impl WarpAdvisoryInput {
    /// Check every field; the errors name each bad one.
    pub fn validate(&self) -> Result<WarpAdvisoryDraft, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let title = crate::validation::text(&mut e, "title", &self.title, 1, MAX_TITLE);
        let summary = multiline(&mut e, "summary", &self.summary, MAX_SUMMARY);
        let action = multiline(&mut e, "action", &self.action, MAX_ACTION);
        let tlp = match TlpLabel::parse(&self.tlp) {
            Some(t) => t,
            None => {
                e.add(
                    "tlp",
                    "choose a TLP label: TLP:CLEAR, TLP:GREEN, TLP:AMBER, TLP:AMBER+STRICT or TLP:RED",
                );
                TlpLabel::Amber
            }
        };
        let priority = parse_priority(&self.priority).unwrap_or_else(|| {
            e.add("priority", "choose a priority: P1, P2, P3 or P4");
            4
        });
        let audience = Audience::parse(&self.audience).unwrap_or_else(|| {
            e.add(
                "audience",
                "choose all members, or members whose inventory lists the products",
            );
            Audience::All
        });

        let mut products: Vec<ProductRef> = Vec::new();
        let mut problems = Vec::new();
        for raw in self.products.iter().filter(|p| !p.trim().is_empty()) {
            match ProductRef::parse(raw) {
                Ok(p) => {
                    let text = p.to_string().to_lowercase();
                    if !products
                        .iter()
                        .any(|q| q.to_string().to_lowercase() == text)
                    {
                        products.push(p);
                    }
                }
                Err(m) => problems.push(m),
            }
        }
        if !problems.is_empty() {
            e.add("products", problems.join("; "));
        } else if products.len() > MAX_PRODUCTS {
            e.add("products", format!("name at most {MAX_PRODUCTS} products"));
        } else if audience == Audience::Products && products.is_empty() {
            e.add(
                "products",
                "name at least one product, as the audience is the members whose inventory lists it",
            );
        }

        let mut cves: Vec<String> = Vec::new();
        let mut bad = Vec::new();
        for raw in self.cves.iter().filter(|c| !c.trim().is_empty()) {
            match parse_cve(raw) {
                Some(c) if !cves.contains(&c) => cves.push(c),
                Some(_) => {}
                None => bad.push(format!("'{}'", short(raw.trim()))),
            }
        }
        if !bad.is_empty() {
            e.add(
                "cves",
                format!(
                    "{} not a CVE id written CVE-YYYY-NNNN",
                    if bad.len() == 1 {
                        format!("{} is", bad.join(", "))
                    } else {
                        format!("{} are", bad.join(", "))
                    }
                ),
            );
        } else if cves.len() > MAX_CVES {
            e.add("cves", format!("name at most {MAX_CVES} CVE ids"));
        }

        let mut links = Vec::new();
        let mut problems = Vec::new();
        for l in self
            .links
            .iter()
            .filter(|l| !l.url.trim().is_empty() || !l.label.trim().is_empty())
        {
            match check_link(l) {
                Ok(link) => links.push(link),
                Err(m) => problems.push(m),
            }
        }
        if !problems.is_empty() {
            e.add("links", problems.join("; "));
        } else if links.len() > MAX_LINKS {
            e.add("links", format!("give at most {MAX_LINKS} links"));
        }

        e.into_result(WarpAdvisoryDraft {
            title,
            summary,
            action,
            tlp,
            priority,
            audience,
            products,
            cves,
            links,
        })
    }
}

impl From<&WarpAdvisoryDraft> for WarpAdvisoryInput {
    fn from(d: &WarpAdvisoryDraft) -> Self {
        WarpAdvisoryInput {
            title: d.title.clone(),
            summary: d.summary.clone(),
            action: d.action.clone(),
            tlp: d.tlp.as_str().into(),
            priority: format!("P{}", d.priority),
            audience: d.audience.as_str().into(),
            products: d.products.iter().map(ToString::to_string).collect(),
            cves: d.cves.clone(),
            links: d
                .links
                .iter()
                .map(|l| LinkInput {
                    label: l.label.clone(),
                    url: l.url.clone(),
                })
                .collect(),
        }
    }
}

/// `P1`–`P4` or `1`–`4` → 1–4.
pub fn parse_priority(s: &str) -> Option<u8> {
    let t = s.trim();
    let t = t
        .strip_prefix('P')
        .or_else(|| t.strip_prefix('p'))
        .unwrap_or(t);
    match t {
        "1" => Some(1),
        "2" => Some(2),
        "3" => Some(3),
        "4" => Some(4),
        _ => None,
    }
}

/// A review note (asking for changes): required, bounded.
pub fn validate_note(note: &str) -> Result<String, ValidationErrors> {
    let mut e = ValidationErrors::new();
    let note = multiline(&mut e, "note", note, MAX_NOTE);
    if e.for_field("note") == Some("is required") {
        e = ValidationErrors::new();
        e.add("note", "say what the author should change");
    }
    e.into_result(note)
}

/// What an operator does to an advisory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Step {
    Edit,
    Submit,
    RequestChanges,
    Publish,
    Withdraw,
}

impl Step {
    pub const ALL: [Step; 5] = [
        Step::Edit,
        Step::Submit,
        Step::RequestChanges,
        Step::Publish,
        Step::Withdraw,
    ];

    /// "edited", "submitted for review", … for messages.
    fn done(self) -> &'static str {
        match self {
            Step::Edit => "edited",
            Step::Submit => "submitted for review",
            Step::RequestChanges => "sent back for changes",
            Step::Publish => "published",
            Step::Withdraw => "withdrawn",
        }
    }
}

/// Why a step is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// Members may not write, review or withdraw WARP advisories.
    #[error("only WARP operators may write, review, publish or withdraw WARP advisories")]
    OperatorsOnly,
    /// Editing and submitting are the author's.
    #[error("only the advisory's author may edit it or submit it for review")]
    NotAuthor,
    /// The four-eyes rule.
    #[error(
        "you wrote this advisory, so another operator must review it: a second operator has to publish it or ask for changes"
    )]
    OwnAdvisory,
    /// The step does not apply in this status.
    #[error("an advisory that is {} cannot be {}", .status.label().to_lowercase(), .step.done())]
    WrongStatus { status: WarpStatus, step: Step },
}

impl Refusal {
    /// Whether the refusal is about the advisory's state (a conflict) rather
    /// than the actor's rights (forbidden).
    pub fn is_conflict(self) -> bool {
        matches!(self, Refusal::WrongStatus { .. })
    }
}

/// May `actor` start a new WARP advisory?
pub fn can_create(actor: &Actor) -> Result<(), Refusal> {
    if actor.is_operator() {
        Ok(())
    } else {
        Err(Refusal::OperatorsOnly)
    }
}

/// The status after `actor` takes `step` on an advisory in `status` written
/// by `author` (`None` when the author's account is gone), or why not.
pub fn next(
    actor: &Actor,
    status: WarpStatus,
    author: Option<UserId>,
    step: Step,
) -> Result<WarpStatus, Refusal> {
    use WarpStatus::*;
    can_create(actor)?;
    let is_author = author.is_none_or(|a| a == actor.user_id);
    let is_other = author != Some(actor.user_id);
    let wrong = Err(Refusal::WrongStatus { status, step });
    match step {
        Step::Edit => match status {
            Draft | InReview if is_author => Ok(Draft),
            Draft | InReview => Err(Refusal::NotAuthor),
            _ => wrong,
        },
        Step::Submit => match status {
            Draft if is_author => Ok(InReview),
            Draft => Err(Refusal::NotAuthor),
            _ => wrong,
        },
        Step::RequestChanges => match status {
            InReview if is_other => Ok(Draft),
            InReview => Err(Refusal::OwnAdvisory),
            _ => wrong,
        },
        Step::Publish => match status {
            InReview if is_other => Ok(Published),
            InReview => Err(Refusal::OwnAdvisory),
            _ => wrong,
        },
        Step::Withdraw => match status {
            Published => Ok(Withdrawn),
            _ => wrong,
        },
    }
}

/// The steps `actor` may take now (for showing only the buttons that work).
pub fn allowed_steps(actor: &Actor, status: WarpStatus, author: Option<UserId>) -> Vec<Step> {
    Step::ALL
        .into_iter()
        .filter(|s| next(actor, status, author, *s).is_ok())
        .collect()
}

/// Whether a member organisation may read an advisory. `reached` says
/// whether the advisory was sent to that organisation when it was published.
pub fn member_may_see(
    status: WarpStatus,
    audience: Audience,
    tlp: TlpLabel,
    reached: bool,
) -> bool {
    let out = matches!(status, WarpStatus::Published | WarpStatus::Withdrawn);
    out && ((audience == Audience::All && tlp != TlpLabel::Red) || reached)
}

/// Whether `actor` may read an advisory (see [`member_may_see`]).
pub fn may_see(
    actor: &Actor,
    status: WarpStatus,
    audience: Audience,
    tlp: TlpLabel,
    reached: bool,
) -> bool {
    actor.is_operator() || member_may_see(status, audience, tlp, reached)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Role;
    use crate::ids::OrgId;

    fn op(id: i64) -> Actor {
        Actor {
            user_id: UserId(id),
            role: Role::Operator,
            org_id: None,
        }
    }
    fn member(role: Role) -> Actor {
        Actor {
            user_id: UserId(50),
            role,
            org_id: Some(OrgId(5)),
        }
    }

    fn input() -> WarpAdvisoryInput {
        WarpAdvisoryInput {
            title: "  FortiOS SSL-VPN exploited  ".into(),
            summary: "Attackers are exploiting\r\nFortiOS SSL-VPN.".into(),
            action: "Upgrade to 7.4.3.".into(),
            tlp: "TLP:AMBER".into(),
            priority: "P1".into(),
            audience: "products".into(),
            products: vec![
                "Fortinet:FortiOS".into(),
                "cpe:2.3:o:fortinet:fortiproxy".into(),
                "fortinet:fortios".into(),
                "  ".into(),
            ],
            cves: vec!["cve-2024-21762".into(), "CVE-2024-21762".into()],
            links: vec![LinkInput::from_line(
                "NCSC alert https://www.ncsc.gov.uk/news/fortinet",
            )],
        }
    }

    #[test]
    fn a_good_advisory_is_cleaned_up() {
        let d = input().validate().expect("valid");
        assert_eq!(d.title, "FortiOS SSL-VPN exploited");
        assert_eq!(d.summary, "Attackers are exploiting\nFortiOS SSL-VPN.");
        assert_eq!(d.tlp, TlpLabel::Amber);
        assert_eq!(d.priority, 1);
        assert_eq!(d.audience, Audience::Products);
        assert_eq!(
            d.products,
            vec![
                ProductRef::VendorProduct {
                    vendor: "Fortinet".into(),
                    product: "FortiOS".into()
                },
                ProductRef::Cpe("cpe:2.3:o:fortinet:fortiproxy:*:*:*:*:*:*:*:*".into()),
            ],
            "duplicates differing in case are dropped"
        );
        assert_eq!(d.cves, vec!["CVE-2024-21762"]);
        assert_eq!(
            d.links,
            vec![WarpLink {
                label: "NCSC alert".into(),
                url: "https://www.ncsc.gov.uk/news/fortinet".into()
            }]
        );
        // Round trip through the input form.
        assert_eq!(WarpAdvisoryInput::from(&d).validate(), Ok(d));
    }

    #[test]
    fn every_bad_field_is_named() {
        let bad = WarpAdvisoryInput {
            title: " ".into(),
            summary: "x".repeat(MAX_SUMMARY + 1),
            action: "do\u{7}this".into(),
            tlp: "purple".into(),
            priority: "P5".into(),
            audience: "some".into(),
            products: vec!["just-a-name".into()],
            cves: vec!["CVE-24-1".into(), "CVE-2024-123".into()],
            links: vec![LinkInput::from_line("javascript:alert(1)")],
        };
        let e = bad.validate().expect_err("invalid");
        for field in [
            "title", "summary", "action", "tlp", "priority", "audience", "products", "cves",
            "links",
        ] {
            assert!(e.for_field(field).is_some(), "{field}: {e}");
        }
        assert_eq!(e.for_field("title"), Some("is required"));
        assert!(
            e.for_field("cves")
                .is_some_and(|m| m.contains("'CVE-24-1', 'CVE-2024-123' are")),
            "{e}"
        );
        assert!(
            e.for_field("products")
                .is_some_and(|m| m.contains("just-a-name"))
        );
        assert!(e.for_field("links").is_some_and(|m| m.contains("http")));
    }

    #[test]
    fn a_product_audience_needs_products() {
        let e = WarpAdvisoryInput {
            products: vec![],
            ..input()
        }
        .validate()
        .expect_err("no products");
        assert!(e.for_field("products").is_some());
        assert_eq!(e.0.len(), 1);
        // The whole membership needs none.
        let d = WarpAdvisoryInput {
            audience: "all".into(),
            products: vec![],
            ..input()
        }
        .validate()
        .expect("valid");
        assert_eq!(d.audience, Audience::All);
        let too_many = WarpAdvisoryInput {
            products: (0..=MAX_PRODUCTS).map(|i| format!("v:p{i}")).collect(),
            ..input()
        };
        assert!(too_many.validate().is_err());
    }

    #[test]
    fn products_are_vendor_product_cpe_or_package() {
        let ok = [
            ("fortinet:fortios", "fortinet:fortios"),
            (" Microsoft : Exchange Server ", "Microsoft:Exchange Server"),
            (
                "cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*",
                "cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*",
            ),
            (
                "CPE:2.3:A:apache:tomcat",
                "cpe:2.3:a:apache:tomcat:*:*:*:*:*:*:*:*",
            ),
            (
                "cpe:2.3:a:vendor\\:x:prod",
                "cpe:2.3:a:vendor\\:x:prod:*:*:*:*:*:*:*:*",
            ),
            (
                "pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1",
                "pkg:maven/org.apache.logging.log4j/log4j-core",
            ),
            ("pkg:NPM/lodash?x=1", "pkg:npm/lodash"),
        ];
        for (raw, want) in ok {
            let p = ProductRef::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(p.to_string(), want, "{raw}");
            assert_eq!(
                ProductRef::parse(&p.to_string()),
                Ok(p),
                "{raw} round trips"
            );
        }
        for bad in [
            "",
            "fortios",
            ":fortios",
            "fortinet:",
            "a:b:c",
            "cpe:/a:apache:log4j",
            "cpe:2.3:a:apache",
            "cpe:2.3:x:apache:log4j",
            "cpe:2.3:a:*:log4j",
            "cpe:2.3:a:apache:log4*",
            "cpe:2.3:a:apache:-",
            "cpe:2.3:a:apache:log4j:1:*:*:*:*:*:*:*:*:extra",
            "pkg:lodash",
            "pkg:/",
            "bad\u{0}:thing",
        ] {
            assert!(ProductRef::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(ProductRef::parse(&format!("v:{}", "p".repeat(MAX_PRODUCT_LEN))).is_err());
    }

    #[test]
    fn cve_ids() {
        assert_eq!(parse_cve(" cve-2021-44228 "), Some("CVE-2021-44228".into()));
        assert_eq!(
            parse_cve("CVE-2024-1234567"),
            Some("CVE-2024-1234567".into())
        );
        for bad in [
            "CVE-2021-442",
            "CVE-21-44228",
            "CVE-1998-0001",
            "CVE-2021-",
            "CVE-2021-44228a",
            "GHSA-xxxx",
            "",
        ] {
            assert_eq!(parse_cve(bad), None, "{bad}");
        }
    }

    #[test]
    fn links_take_a_label_or_their_host() {
        let l = LinkInput::from_line("https://example.org:8443/a?b#c");
        assert_eq!(l.label, "");
        let w = check_link(&l).expect("valid");
        assert_eq!(w.label, "example.org");
        let l = LinkInput::from_line("  Vendor advice   http://vendor.example/psirt ");
        assert_eq!(l.label, "Vendor advice");
        assert_eq!(l.url, "http://vendor.example/psirt");
        assert!(check_link(&LinkInput::from_line("ftp://x.example/a")).is_err());
        assert!(check_link(&LinkInput::from_line("https://")).is_err());
        assert!(
            check_link(&LinkInput::from_line(
                "a link https://x.example/\"onmouseover"
            ))
            .is_err()
        );
        assert!(
            check_link(&LinkInput {
                label: "x".into(),
                url: format!("https://x.example/{}", "a".repeat(MAX_URL_LEN))
            })
            .is_err()
        );
        assert_eq!(url_host("https://user@[::1]:80/x"), Some("[::1]"));
        // Blank lines are skipped; a label without a URL is an error.
        let d = WarpAdvisoryInput {
            links: vec![LinkInput::default(), LinkInput::from_line("Only words")],
            ..input()
        };
        assert!(
            d.validate()
                .expect_err("no url")
                .for_field("links")
                .is_some()
        );
    }

    #[test]
    fn priorities_and_notes() {
        assert_eq!(parse_priority("P1"), Some(1));
        assert_eq!(parse_priority(" p4 "), Some(4));
        assert_eq!(parse_priority("3"), Some(3));
        assert_eq!(parse_priority("P0"), None);
        assert_eq!(parse_priority(""), None);
        assert_eq!(
            validate_note(" fix the CVE id "),
            Ok("fix the CVE id".into())
        );
        assert_eq!(
            validate_note("  ").expect_err("empty").for_field("note"),
            Some("say what the author should change")
        );
        assert!(validate_note(&"x".repeat(MAX_NOTE + 1)).is_err());
    }

    #[test]
    fn statuses_and_audiences_round_trip() {
        for s in WarpStatus::ALL {
            assert_eq!(WarpStatus::parse(s.as_str()), Some(s));
        }
        for a in Audience::ALL {
            assert_eq!(Audience::parse(a.as_str()), Some(a));
        }
        assert_eq!(WarpStatus::parse("live"), None);
        assert_eq!(Audience::parse("everyone"), None);
    }

    /// The whole workflow matrix: every status × step × who.
    #[test]
    fn workflow_matrix() {
        use WarpStatus::*;
        let author = op(1);
        let other = op(2);
        // (status, step, by author, by another operator)
        type Outcome = Result<WarpStatus, Refusal>;
        let wrong = |status, step| Err(Refusal::WrongStatus { status, step });
        let cases: Vec<(WarpStatus, Step, Outcome, Outcome)> = vec![
            (Draft, Step::Edit, Ok(Draft), Err(Refusal::NotAuthor)),
            (InReview, Step::Edit, Ok(Draft), Err(Refusal::NotAuthor)),
            (
                Published,
                Step::Edit,
                wrong(Published, Step::Edit),
                wrong(Published, Step::Edit),
            ),
            (
                Withdrawn,
                Step::Edit,
                wrong(Withdrawn, Step::Edit),
                wrong(Withdrawn, Step::Edit),
            ),
            (Draft, Step::Submit, Ok(InReview), Err(Refusal::NotAuthor)),
            (
                InReview,
                Step::Submit,
                wrong(InReview, Step::Submit),
                wrong(InReview, Step::Submit),
            ),
            (
                Published,
                Step::Submit,
                wrong(Published, Step::Submit),
                wrong(Published, Step::Submit),
            ),
            (
                Withdrawn,
                Step::Submit,
                wrong(Withdrawn, Step::Submit),
                wrong(Withdrawn, Step::Submit),
            ),
            (
                Draft,
                Step::RequestChanges,
                wrong(Draft, Step::RequestChanges),
                wrong(Draft, Step::RequestChanges),
            ),
            (
                InReview,
                Step::RequestChanges,
                Err(Refusal::OwnAdvisory),
                Ok(Draft),
            ),
            (
                Published,
                Step::RequestChanges,
                wrong(Published, Step::RequestChanges),
                wrong(Published, Step::RequestChanges),
            ),
            (
                Withdrawn,
                Step::RequestChanges,
                wrong(Withdrawn, Step::RequestChanges),
                wrong(Withdrawn, Step::RequestChanges),
            ),
            (
                Draft,
                Step::Publish,
                wrong(Draft, Step::Publish),
                wrong(Draft, Step::Publish),
            ),
            (
                InReview,
                Step::Publish,
                Err(Refusal::OwnAdvisory),
                Ok(Published),
            ),
            (
                Published,
                Step::Publish,
                wrong(Published, Step::Publish),
                wrong(Published, Step::Publish),
            ),
            (
                Withdrawn,
                Step::Publish,
                wrong(Withdrawn, Step::Publish),
                wrong(Withdrawn, Step::Publish),
            ),
            (
                Draft,
                Step::Withdraw,
                wrong(Draft, Step::Withdraw),
                wrong(Draft, Step::Withdraw),
            ),
            (
                InReview,
                Step::Withdraw,
                wrong(InReview, Step::Withdraw),
                wrong(InReview, Step::Withdraw),
            ),
            (Published, Step::Withdraw, Ok(Withdrawn), Ok(Withdrawn)),
            (
                Withdrawn,
                Step::Withdraw,
                wrong(Withdrawn, Step::Withdraw),
                wrong(Withdrawn, Step::Withdraw),
            ),
        ];
        assert_eq!(cases.len(), WarpStatus::ALL.len() * Step::ALL.len());
        for (status, step, by_author, by_other) in cases {
            assert_eq!(
                next(&author, status, Some(author.user_id), step),
                by_author,
                "{status:?} {step:?} by author"
            );
            assert_eq!(
                next(&other, status, Some(author.user_id), step),
                by_other,
                "{status:?} {step:?} by another"
            );
            for role in [Role::MemberLead, Role::MemberUser] {
                let m = member(role);
                assert_eq!(
                    next(&m, status, Some(m.user_id), step),
                    Err(Refusal::OperatorsOnly)
                );
            }
        }
    }

    #[test]
    fn an_orphaned_advisory_can_be_adopted_and_reviewed_by_anyone() {
        let any = op(7);
        assert_eq!(
            next(&any, WarpStatus::Draft, None, Step::Edit),
            Ok(WarpStatus::Draft)
        );
        assert_eq!(
            next(&any, WarpStatus::Draft, None, Step::Submit),
            Ok(WarpStatus::InReview)
        );
        assert_eq!(
            next(&any, WarpStatus::InReview, None, Step::Publish),
            Ok(WarpStatus::Published)
        );
    }

    #[test]
    fn only_operators_create_and_refusals_say_why() {
        assert!(can_create(&op(1)).is_ok());
        assert_eq!(
            can_create(&member(Role::MemberLead)),
            Err(Refusal::OperatorsOnly)
        );
        assert_eq!(
            can_create(&member(Role::MemberUser)),
            Err(Refusal::OperatorsOnly)
        );
        assert!(
            Refusal::OwnAdvisory
                .to_string()
                .contains("another operator")
        );
        let w = Refusal::WrongStatus {
            status: WarpStatus::Published,
            step: Step::Edit,
        };
        assert_eq!(
            w.to_string(),
            "an advisory that is published cannot be edited"
        );
        assert!(w.is_conflict());
        assert!(!Refusal::OwnAdvisory.is_conflict());
        assert_eq!(
            allowed_steps(&op(2), WarpStatus::InReview, Some(UserId(1))),
            vec![Step::RequestChanges, Step::Publish]
        );
        assert_eq!(
            allowed_steps(&op(1), WarpStatus::InReview, Some(UserId(1))),
            vec![Step::Edit]
        );
        assert!(allowed_steps(&member(Role::MemberLead), WarpStatus::Published, None).is_empty());
    }

    /// Visibility: every status × audience × TLP × reached, for members and operators.
    #[test]
    fn visibility_matrix() {
        for status in WarpStatus::ALL {
            for audience in Audience::ALL {
                for tlp in TlpLabel::ALL {
                    for reached in [false, true] {
                        let out = matches!(status, WarpStatus::Published | WarpStatus::Withdrawn);
                        let want =
                            out && (reached || (audience == Audience::All && tlp != TlpLabel::Red));
                        assert_eq!(
                            member_may_see(status, audience, tlp, reached),
                            want,
                            "{status:?} {audience:?} {tlp:?} reached={reached}"
                        );
                        assert_eq!(
                            may_see(&member(Role::MemberUser), status, audience, tlp, reached),
                            want
                        );
                        assert!(may_see(&op(1), status, audience, tlp, reached));
                    }
                }
            }
        }
        // The cases that matter, spelt out.
        assert!(member_may_see(
            WarpStatus::Published,
            Audience::All,
            TlpLabel::Green,
            false
        ));
        assert!(member_may_see(
            WarpStatus::Published,
            Audience::All,
            TlpLabel::Amber,
            false
        ));
        assert!(!member_may_see(
            WarpStatus::Published,
            Audience::All,
            TlpLabel::Red,
            false
        ));
        assert!(!member_may_see(
            WarpStatus::Published,
            Audience::Products,
            TlpLabel::Clear,
            false
        ));
        assert!(member_may_see(
            WarpStatus::Published,
            Audience::Products,
            TlpLabel::Red,
            true
        ));
        assert!(!member_may_see(
            WarpStatus::InReview,
            Audience::All,
            TlpLabel::Clear,
            true
        ));
    }
}

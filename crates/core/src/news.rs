//! News items and the library of useful links: operators post national
//! updates and curate links and guidance documents with tags; members search
//! them.
//!
//! The rules, in one place:
//!
//! - **Who.** Operators post, change and delete ([`may_curate`]); every
//!   signed-in user reads ([`may_read`]). Nothing here is public: the pages
//!   and API need a session or token.
//! - **Drafts.** A news item is either published (everyone signed in reads
//!   it) or a draft (operators only, [`may_see_item`]).
//! - **Plain text.** A body is plain text with paragraphs separated by blank
//!   lines ([`paragraphs`]); pages escape it, so it can never carry HTML.
//! - **Links** are `http://` or `https://` with a host ([`check_url`]); tags
//!   are lower-case words of letters, digits and hyphens, at most
//!   [`MAX_TAGS`], each at most [`MAX_TAG`] characters ([`parse_tags`]).
//!
//! Everything here is pure: the store and the web layer call it.

use crate::access::Actor;
use crate::validation::ValidationErrors;
use serde::{Deserialize, Serialize};

/// The longest title, in characters.
pub const MAX_TITLE: usize = 200;
/// The longest news body, in characters.
pub const MAX_BODY: usize = 20_000;
/// The longest link description, in characters.
pub const MAX_DESCRIPTION: usize = 2_000;
/// The longest URL, in characters.
pub const MAX_URL: usize = 2_000;
/// At most this many tags on a link.
pub const MAX_TAGS: usize = 10;
/// The longest tag, in characters.
pub const MAX_TAG: usize = 30;

/// Whether `actor` may post, change or delete news and links: operators only.
pub fn may_curate(actor: &Actor) -> bool {
    actor.is_operator()
}

/// Whether `actor` may read news and links: every signed-in user.
pub fn may_read(_actor: &Actor) -> bool {
    true
}

/// Whether `actor` may see a news item: published ones everyone signed in,
/// drafts operators only.
pub fn may_see_item(actor: &Actor, published: bool) -> bool {
    published || actor.is_operator()
}

/// A news item as typed into a form or JSON body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct NewsInput {
    pub title: String,
    pub body: String,
    /// Optional `http(s)://` link to the original announcement.
    #[serde(default)]
    pub source_url: String,
    /// Published (read by members) or a draft (operators only).
    #[serde(default)]
    pub published: bool,
}

/// A valid news item, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewsDraft {
    pub title: String,
    /// Plain text; line endings normalised to `\n`.
    pub body: String,
    pub source_url: Option<String>,
    pub published: bool,
}

impl NewsInput {
    /// Check every field, naming each one at fault.
    pub fn validate(&self) -> Result<NewsDraft, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let title = check_title(&mut e, &self.title);
        let body = self.body.replace("\r\n", "\n").trim().to_owned();
        if body.is_empty() {
            e.add("body", "is required");
        } else if body.chars().count() > MAX_BODY {
            e.add("body", format!("must be at most {MAX_BODY} characters"));
        }
        let source_url = match self.source_url.trim() {
            "" => None,
            raw => match check_url(raw) {
                Ok(u) => Some(u),
                Err(m) => {
                    e.add("source_url", m);
                    None
                }
            },
        };
        e.into_result(NewsDraft {
            title,
            body,
            source_url,
            published: self.published,
        })
    }
}

/// What a library entry is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkKind {
    /// A web page or service.
    Link,
    /// A guidance document.
    Guidance,
}

impl LinkKind {
    pub const ALL: [LinkKind; 2] = [LinkKind::Link, LinkKind::Guidance];

    /// The stored form: `link`, `guidance`.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkKind::Link => "link",
            LinkKind::Guidance => "guidance",
        }
    }

    /// In words, for pages.
    pub fn label(self) -> &'static str {
        match self {
            LinkKind::Link => "Link",
            LinkKind::Guidance => "Guidance document",
        }
    }

    pub fn parse(s: &str) -> Option<LinkKind> {
        LinkKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A library entry as typed into a form or JSON body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct LinkInput {
    pub title: String,
    pub url: String,
    #[serde(default)]
    pub description: String,
    /// Separated by commas or spaces.
    #[serde(default)]
    pub tags: String,
    /// `link` or `guidance`; empty means `link`.
    #[serde(default)]
    pub kind: String,
}

/// A valid library entry, ready to store.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LinkDraft {
    pub title: String,
    pub url: String,
    pub description: String,
    /// Lower case, unique, sorted.
    pub tags: Vec<String>,
    pub kind: LinkKind,
}

impl LinkInput {
    /// Check every field, naming each one at fault.
    pub fn validate(&self) -> Result<LinkDraft, ValidationErrors> {
        let mut e = ValidationErrors::new();
        let title = check_title(&mut e, &self.title);
        let url = match check_url(self.url.trim()) {
            Ok(u) => u,
            Err(m) => {
                e.add("url", m);
                String::new()
            }
        };
        let description = self.description.replace("\r\n", "\n").trim().to_owned();
        if description.chars().count() > MAX_DESCRIPTION {
            e.add(
                "description",
                format!("must be at most {MAX_DESCRIPTION} characters"),
            );
        }
        let tags = parse_tags(&self.tags).unwrap_or_else(|m| {
            e.add("tags", m);
            Vec::new()
        });
        let kind = match self.kind.trim() {
            "" => LinkKind::Link,
            k => LinkKind::parse(k).unwrap_or_else(|| {
                e.add("kind", "must be link or guidance");
                LinkKind::Link
            }),
        };
        e.into_result(LinkDraft {
            title,
            url,
            description,
            tags,
            kind,
        })
    }
}

fn check_title(e: &mut ValidationErrors, raw: &str) -> String {
    let title = raw.trim().to_owned();
    if title.is_empty() {
        e.add("title", "is required");
    } else if title.chars().count() > MAX_TITLE {
        e.add("title", format!("must be at most {MAX_TITLE} characters"));
    } else if title.chars().any(char::is_control) {
        e.add("title", "must be one line");
    }
    title
}

/// An `http://` or `https://` URL with a host and no spaces or control
/// characters; returned trimmed.
pub fn check_url(raw: &str) -> Result<String, String> {
    const MESSAGE: &str = "must be an http:// or https:// link";
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("is required".into());
    }
    if raw.chars().count() > MAX_URL {
        return Err(format!("must be at most {MAX_URL} characters"));
    }
    let lower = raw.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| MESSAGE.to_owned())?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = host.rsplit('@').next().unwrap_or_default();
    if host.is_empty()
        || host.starts_with(':')
        || raw
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>')
    {
        return Err(MESSAGE.into());
    }
    Ok(raw.to_owned())
}

/// Tags from a comma- or space-separated list: lower-cased, de-duplicated and
/// sorted; each a word of letters, digits and hyphens of at most [`MAX_TAG`]
/// characters, at most [`MAX_TAGS`] of them.
pub fn parse_tags(raw: &str) -> Result<Vec<String>, String> {
    let mut tags: Vec<String> = Vec::new();
    for word in raw.split(|c: char| c == ',' || c.is_whitespace()) {
        if word.is_empty() {
            continue;
        }
        let tag = word.to_lowercase();
        if tag.chars().count() > MAX_TAG {
            return Err(format!("\"{tag}\" is longer than {MAX_TAG} characters"));
        }
        if !tag.chars().all(|c| c.is_alphanumeric() || c == '-') {
            return Err(format!(
                "\"{tag}\" may hold only letters, digits and hyphens"
            ));
        }
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(format!("at most {MAX_TAGS} tags"));
    }
    tags.sort();
    Ok(tags)
}

/// The paragraphs of a plain-text body: separated by blank lines, each with
/// its own line breaks kept and outer whitespace trimmed. Pages escape each
/// one; nothing here is HTML.
pub fn paragraphs(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in body.lines() {
        if line.trim().is_empty() {
            if !current.is_empty() {
                out.push(current.join("\n"));
                current.clear();
            }
        } else {
            current.push(line.trim_end());
        }
    }
    if !current.is_empty() {
        out.push(current.join("\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{OrgId, Role, UserId};

    fn actor(role: Role) -> Actor {
        Actor {
            user_id: UserId(1),
            role,
            org_id: (role != Role::Operator).then_some(OrgId(2)),
        }
    }

    #[test]
    fn operators_curate_and_everyone_signed_in_reads() {
        for role in [Role::Operator, Role::MemberLead, Role::MemberUser] {
            let a = actor(role);
            assert_eq!(may_curate(&a), role == Role::Operator, "{role:?}");
            assert!(may_read(&a));
            assert!(may_see_item(&a, true));
            assert_eq!(may_see_item(&a, false), role == Role::Operator, "{role:?}");
        }
    }

    #[test]
    fn a_news_item_is_validated_field_by_field() {
        let good = NewsInput {
            title: "  CAF for local government  ".into(),
            body: "First.\r\n\r\nSecond.".into(),
            source_url: " https://www.ncsc.gov.uk/collection/caf ".into(),
            published: true,
        };
        let d = good.validate().unwrap();
        assert_eq!(d.title, "CAF for local government");
        assert_eq!(d.body, "First.\n\nSecond.");
        assert_eq!(
            d.source_url.as_deref(),
            Some("https://www.ncsc.gov.uk/collection/caf")
        );
        let no_source = NewsInput {
            source_url: "  ".into(),
            ..good.clone()
        };
        assert_eq!(no_source.validate().unwrap().source_url, None);

        let bad = NewsInput {
            title: " ".into(),
            body: "x".repeat(MAX_BODY + 1),
            source_url: "javascript:alert(1)".into(),
            published: false,
        };
        let e = bad.validate().unwrap_err();
        assert_eq!(e.for_field("title"), Some("is required"));
        assert!(e.for_field("body").unwrap().contains("at most"));
        assert_eq!(
            e.for_field("source_url"),
            Some("must be an http:// or https:// link")
        );
        let e = NewsInput {
            title: "x".repeat(MAX_TITLE + 1),
            body: String::new(),
            ..good
        }
        .validate()
        .unwrap_err();
        assert!(e.for_field("title").unwrap().contains("at most"));
        assert_eq!(e.for_field("body"), Some("is required"));
    }

    #[test]
    fn urls_are_http_or_https_with_a_host() {
        for ok in [
            "https://www.ncsc.gov.uk/",
            "http://example.org",
            "HTTPS://Example.org/a?b=c#d",
            "https://host:8443/x",
        ] {
            assert_eq!(check_url(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in [
            "javascript:alert(1)",
            "ftp://x.org",
            "https://",
            "https:///path",
            "https://a b.org",
            "https://x.org/\"><script>",
            "data:text/html,hi",
            "//x.org",
        ] {
            assert!(check_url(bad).is_err(), "{bad}");
        }
        assert_eq!(check_url(""), Err("is required".into()));
        assert!(check_url(&format!("https://x.org/{}", "a".repeat(MAX_URL))).is_err());
    }

    #[test]
    fn tags_are_lower_case_words_at_most_ten_each_at_most_thirty() {
        assert_eq!(
            parse_tags("NCSC, caf  board-level,ncsc"),
            Ok(vec!["board-level".into(), "caf".into(), "ncsc".into()])
        );
        assert_eq!(parse_tags(" , "), Ok(vec![]));
        assert!(parse_tags("a<b").unwrap_err().contains("letters, digits"));
        assert!(
            parse_tags(&"x".repeat(MAX_TAG + 1))
                .unwrap_err()
                .contains("longer")
        );
        assert_eq!(parse_tags(&"y".repeat(MAX_TAG)).map(|t| t.len()), Ok(1));
        let eleven: Vec<String> = (0..11).map(|i| format!("t{i}")).collect();
        assert_eq!(parse_tags(&eleven.join(",")), Err("at most 10 tags".into()));
        assert_eq!(parse_tags(&eleven[..10].join(" ")).map(|t| t.len()), Ok(10));
    }

    #[test]
    fn a_link_is_validated_field_by_field() {
        let good = LinkInput {
            title: "10 Steps to Cyber Security".into(),
            url: "https://www.ncsc.gov.uk/collection/10-steps".into(),
            description: "The NCSC's guidance.".into(),
            tags: "ncsc governance".into(),
            kind: "guidance".into(),
        };
        let d = good.validate().unwrap();
        assert_eq!(d.kind, LinkKind::Guidance);
        assert_eq!(d.tags, vec!["governance", "ncsc"]);
        let plain = LinkInput {
            kind: String::new(),
            ..good.clone()
        };
        assert_eq!(plain.validate().unwrap().kind, LinkKind::Link);

        let e = LinkInput {
            title: String::new(),
            url: "ftp://x".into(),
            description: "d".repeat(MAX_DESCRIPTION + 1),
            tags: "bad!tag".into(),
            kind: "video".into(),
        }
        .validate()
        .unwrap_err();
        for field in ["title", "url", "description", "tags", "kind"] {
            assert!(e.for_field(field).is_some(), "{field}");
        }
        assert_eq!(
            LinkInput {
                url: String::new(),
                ..good
            }
            .validate()
            .unwrap_err()
            .for_field("url"),
            Some("is required")
        );
    }

    #[test]
    fn bodies_split_into_paragraphs_on_blank_lines() {
        assert_eq!(
            paragraphs("One\nline two\n\n  \nTwo  \n\n\n<b>Three</b>\n"),
            vec!["One\nline two", "Two", "<b>Three</b>"]
        );
        assert!(paragraphs("  \n").is_empty());
    }

    #[test]
    fn kinds_round_trip() {
        for k in LinkKind::ALL {
            assert_eq!(LinkKind::parse(k.as_str()), Some(k));
            assert!(!k.label().is_empty());
        }
        assert_eq!(LinkKind::parse("Link"), None);
    }
}

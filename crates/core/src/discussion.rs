//! Discussion: topics (e.g. "PSN", "Cloud", "GDPR"), threads in a topic and
//! posts in a thread.
//!
//! The rules, in one place:
//!
//! - **Who.** Every signed-in user may read, start threads and reply
//!   ([`may_take_part`]); signed-out visitors see nothing (the web layer asks
//!   for a session first). Only operators create topics, hide or unhide a
//!   post and lock or unlock a thread ([`may_moderate`]).
//! - **Locked threads** take no replies ([`may_reply`]).
//! - **Editing.** Authors may edit their own post within [`EDIT_WINDOW_HOURS`]
//!   hours of posting, unless it was hidden or the thread is locked
//!   ([`may_edit`]).
//! - **Hidden posts** are kept, with who hid them and why, and shown to
//!   everyone as "removed by a moderator"; their text is never sent to a page
//!   or the API.
//! - **Markdown** is rendered by `pulldown-cmark` and the HTML sanitised by
//!   `ammonia` ([`render_markdown`]): scripts, event handlers, `javascript:`
//!   links and raw HTML never survive.
//! - **Mentions** are `@` followed by an e-mail address's local part, e.g.
//!   `@jo.bloggs` for `jo.bloggs@kent.gov.uk` ([`mentions`]).
//!
//! Everything here is pure: the store and the web layer call it.

use crate::access::Actor;
use crate::ids::UserId;
use crate::validation::{self, ValidationErrors};
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeSet;
use std::fmt;

/// The longest topic name, in characters.
pub const MAX_TOPIC_NAME: usize = 60;
/// The longest topic description, in characters.
pub const MAX_TOPIC_DESCRIPTION: usize = 500;
/// The longest thread title, in characters.
pub const MAX_TITLE: usize = 200;
/// The longest post, in characters (Markdown source).
pub const MAX_BODY: usize = 20_000;
/// The longest moderation reason, in characters.
pub const MAX_REASON: usize = 500;
/// Authors may edit their own post for this many hours after posting.
pub const EDIT_WINDOW_HOURS: i64 = 24;

/// Slugs a topic may not have: they are other pages' addresses under
/// `/discussion/` and `/api/v1/discussion/`.
pub const RESERVED_SLUGS: [&str; 4] = ["settings", "threads", "posts", "topics"];

/// A validated new topic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicDraft {
    pub name: String,
    pub slug: String,
    pub description: String,
}

/// Validate a new topic: a name of 1–[`MAX_TOPIC_NAME`] characters that
/// gives a non-empty slug, and an optional description.
pub fn validate_topic(name: &str, description: &str) -> Result<TopicDraft, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let name = validation::text(&mut errors, "name", name, 1, MAX_TOPIC_NAME);
    let description = validation::text(
        &mut errors,
        "description",
        description,
        0,
        MAX_TOPIC_DESCRIPTION,
    );
    let slug = slug(&name);
    if errors.for_field("name").is_none() {
        if slug.is_empty() {
            errors.add("name", "must contain a letter or a digit");
        } else if RESERVED_SLUGS.contains(&slug.as_str()) {
            errors.add("name", format!("'{name}' is reserved; choose another name"));
        }
    }
    errors.into_result(TopicDraft {
        name,
        slug,
        description,
    })
}

/// A topic's address form: lower-case ASCII letters and digits, runs of
/// anything else turned into one `-`.
pub fn slug(name: &str) -> String {
    let mut out = String::new();
    let mut dash = false;
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c.to_ascii_lowercase());
        } else {
            dash = true;
        }
    }
    out
}

/// A validated new thread: its title and first post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadDraft {
    pub title: String,
    pub body: String,
}

/// Validate a new thread's title and first post.
pub fn validate_thread(title: &str, body: &str) -> Result<ThreadDraft, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let title = validation::text(&mut errors, "title", title, 1, MAX_TITLE);
    let body = check_body(&mut errors, body);
    errors.into_result(ThreadDraft { title, body })
}

/// Validate a reply or an edited post.
pub fn validate_post(body: &str) -> Result<String, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let body = check_body(&mut errors, body);
    errors.into_result(body)
}

/// Validate a moderator's reason for hiding a post (required).
pub fn validate_reason(reason: &str) -> Result<String, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let reason = validation::text(&mut errors, "reason", reason, 1, MAX_REASON);
    errors.into_result(reason)
}

fn check_body(errors: &mut ValidationErrors, body: &str) -> String {
    let body = body.replace("\r\n", "\n");
    let trimmed = body.trim();
    let len = trimmed.chars().count();
    if len == 0 {
        errors.add("body", "is required");
    } else if len > MAX_BODY {
        errors.add(
            "body",
            format!("is too long: {len} characters; a post may be at most {MAX_BODY}"),
        );
    } else if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        errors.add("body", "must not contain control characters");
    }
    trimmed.to_string()
}

/// Render a post's Markdown to HTML that is safe to put in a page: raw HTML
/// in the source is escaped to text, then the HTML is sanitised (no scripts,
/// no event handlers, no `javascript:` or other unsafe links; links get
/// `rel="noopener noreferrer nofollow"`).
pub fn render_markdown(source: &str) -> String {
    use pulldown_cmark::{Event, Options, Parser, html};
    let mut options = Options::empty();
    options.insert(Options::ENABLE_STRIKETHROUGH);
    options.insert(Options::ENABLE_TABLES);
    // Raw HTML in the source is shown as text, never passed through.
    let parser = Parser::new_ext(source, options).map(|event| match event {
        Event::Html(text) | Event::InlineHtml(text) => Event::Text(text),
        other => other,
    });
    let mut unsafe_html = String::new();
    html::push_html(&mut unsafe_html, parser);
    ammonia::Builder::default()
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer nofollow"))
        .clean(&unsafe_html)
        .to_string()
}

/// The mentions in a post: each `@name` where `name` is letters, digits and
/// `.`, `_`, `-`, `+` (a trailing `.` or `-` is punctuation, not part of the
/// name), preceded by the start or a character that is not part of a name
/// (so `jo@kent.gov.uk` is not a mention). Lower-cased, each once, sorted.
/// The store matches them against users' e-mail local parts.
pub fn mentions(body: &str) -> Vec<String> {
    let is_name = |c: char| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '+');
    let chars: Vec<char> = body.chars().collect();
    let mut found = BTreeSet::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == '@' && (i == 0 || !(is_name(chars[i - 1]) || chars[i - 1] == '@')) {
            let start = i + 1;
            let mut end = start;
            while end < chars.len() && is_name(chars[end]) {
                end += 1;
            }
            let mut name: String = chars[start..end].iter().collect();
            while name.ends_with(['.', '-']) {
                name.pop();
            }
            if !name.is_empty() && name.chars().count() <= 64 {
                found.insert(name.to_lowercase());
            }
            i = end.max(i + 1);
        } else {
            i += 1;
        }
    }
    found.into_iter().collect()
}

/// The mention handle for an e-mail address: its local part, lower-cased.
pub fn handle(email: &str) -> String {
    email.split('@').next().unwrap_or_default().to_lowercase()
}

/// The facts about a post that the rules need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PostFacts {
    pub author: Option<UserId>,
    pub created_at: DateTime<Utc>,
    pub hidden: bool,
    pub thread_locked: bool,
}

/// Why something is refused. Each says what to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiscussionRefusal {
    /// Only operators moderate.
    OperatorsOnly,
    /// The thread is locked.
    Locked,
    /// Not the author of the post.
    NotAuthor,
    /// The edit window has passed.
    TooLate,
    /// The post was removed by a moderator.
    Hidden,
}

impl fmt::Display for DiscussionRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DiscussionRefusal::OperatorsOnly => "only WARP operators may moderate discussions",
            DiscussionRefusal::Locked => "this thread is locked: it takes no more replies",
            DiscussionRefusal::NotAuthor => "you may only edit your own posts",
            DiscussionRefusal::TooLate => {
                "posts may only be edited within 24 hours of posting; reply instead"
            }
            DiscussionRefusal::Hidden => "this post was removed by a moderator",
        })
    }
}

impl std::error::Error for DiscussionRefusal {}

/// Reading, starting threads and replying: every signed-in user.
pub fn may_take_part(_actor: &Actor) -> Result<(), DiscussionRefusal> {
    Ok(())
}

/// Creating topics, hiding posts, locking threads: operators only.
pub fn may_moderate(actor: &Actor) -> Result<(), DiscussionRefusal> {
    if actor.is_operator() {
        Ok(())
    } else {
        Err(DiscussionRefusal::OperatorsOnly)
    }
}

/// Replying: any signed-in user, unless the thread is locked.
pub fn may_reply(_actor: &Actor, thread_locked: bool) -> Result<(), DiscussionRefusal> {
    if thread_locked {
        Err(DiscussionRefusal::Locked)
    } else {
        Ok(())
    }
}

/// Editing a post: its author, within [`EDIT_WINDOW_HOURS`] of posting, if
/// it is not hidden and its thread not locked.
pub fn may_edit(
    actor: &Actor,
    post: &PostFacts,
    now: DateTime<Utc>,
) -> Result<(), DiscussionRefusal> {
    if post.author != Some(actor.user_id) {
        return Err(DiscussionRefusal::NotAuthor);
    }
    if post.hidden {
        return Err(DiscussionRefusal::Hidden);
    }
    if post.thread_locked {
        return Err(DiscussionRefusal::Locked);
    }
    if now - post.created_at > Duration::hours(EDIT_WINDOW_HOURS) {
        return Err(DiscussionRefusal::TooLate);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::Role;
    use crate::ids::OrgId;
    use chrono::TimeZone;

    fn actor(id: i64, role: Role) -> Actor {
        Actor {
            user_id: UserId(id),
            role,
            org_id: (role != Role::Operator).then_some(OrgId(1)),
        }
    }

    fn at(h: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, h, 0, 0)
            .single()
            .unwrap_or_default()
    }

    /// Whether `needle` appears inside any tag (between `<` and `>`).
    fn in_a_tag(html: &str, needle: &str) -> bool {
        html.split('<')
            .skip(1)
            .any(|t| t.split('>').next().unwrap_or_default().contains(needle))
    }

    #[test]
    fn scripts_never_survive() {
        let html = render_markdown("hi <script>alert(1)</script> there");
        assert!(!html.contains("<script"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
        let html = render_markdown("<script>\nalert(1)\n</script>\n");
        assert!(!html.contains("<script"), "{html}");
    }

    #[test]
    fn event_handlers_never_survive() {
        let html = render_markdown("<img src=x onerror=alert(1)>");
        assert!(!html.contains("<img"), "{html}");
        let html = render_markdown("![a](x.png\" onerror=\"alert(1))");
        assert!(!in_a_tag(&html, "onerror"), "{html}");
        let html = render_markdown("[a](https://x.test \"t\" onmouseover=\"alert(1)\")");
        assert!(!in_a_tag(&html, "onmouseover"), "{html}");
    }

    #[test]
    fn javascript_links_never_survive() {
        let html = render_markdown("[x](javascript:alert(1))");
        assert!(!html.contains("javascript:"), "{html}");
        let html = render_markdown("[x](JaVaScRiPt:alert(1))");
        assert!(!html.to_lowercase().contains("javascript:"), "{html}");
        let html = render_markdown("<javascript:alert(1)>");
        assert!(!html.contains("href=\"javascript"), "{html}");
    }

    #[test]
    fn raw_html_is_shown_as_text() {
        let html = render_markdown("<b>bold</b> and <iframe src=x></iframe>");
        assert!(!html.contains("<b>"), "{html}");
        assert!(!html.contains("<iframe"), "{html}");
        assert!(html.contains("&lt;b&gt;"), "{html}");
    }

    #[test]
    fn markdown_renders() {
        let html = render_markdown("**bold** and _it_ and [NCSC](https://www.ncsc.gov.uk)");
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(html.contains("<em>it</em>"), "{html}");
        assert!(html.contains("href=\"https://www.ncsc.gov.uk\""), "{html}");
        assert!(
            html.contains("rel=\"noopener noreferrer nofollow\""),
            "{html}"
        );
    }

    #[test]
    fn bodies_are_bounded() {
        assert!(validate_post(&"a".repeat(MAX_BODY)).is_ok());
        let err = validate_post(&"a".repeat(MAX_BODY + 1))
            .err()
            .unwrap_or_default();
        assert!(
            err.for_field("body")
                .unwrap_or_default()
                .contains("too long"),
            "{err}"
        );
        assert!(validate_post("   ").is_err());
        assert!(validate_post("line one\nline two\n\ttabbed").is_ok());
        assert!(validate_post("bad \u{7} bell").is_err());
    }

    #[test]
    fn threads_name_their_bad_fields() {
        let err = validate_thread(&"t".repeat(MAX_TITLE + 1), "")
            .err()
            .unwrap_or_default();
        assert!(err.for_field("title").is_some());
        assert!(err.for_field("body").is_some());
        let ok = validate_thread("  PSN renewal  ", " body ").ok();
        assert_eq!(
            ok,
            Some(ThreadDraft {
                title: "PSN renewal".into(),
                body: "body".into()
            })
        );
    }

    #[test]
    fn topics_have_slugs() {
        assert_eq!(slug("PSN"), "psn");
        assert_eq!(slug("  Cloud & SaaS! "), "cloud-saas");
        let t = validate_topic("GDPR", "Data protection").ok();
        assert_eq!(t.map(|t| t.slug), Some("gdpr".into()));
        assert!(validate_topic("!!!", "").is_err());
        for reserved in ["Settings", "threads", "Posts", "topics"] {
            assert!(validate_topic(reserved, "").is_err(), "{reserved}");
        }
        assert!(validate_topic("", "").is_err());
    }

    #[test]
    fn mentions_are_local_parts() {
        assert_eq!(
            mentions("Thanks @jo.bloggs and @Sam-Lee. Also @jo.bloggs again"),
            vec!["jo.bloggs".to_string(), "sam-lee".to_string()]
        );
        assert!(mentions("mail jo@kent.gov.uk").is_empty());
        assert!(mentions("just @ nothing").is_empty());
        assert_eq!(mentions("@a"), vec!["a".to_string()]);
        assert_eq!(handle("Jo.Bloggs@Kent.gov.uk"), "jo.bloggs");
    }

    #[test]
    fn only_operators_moderate() {
        assert!(may_moderate(&actor(1, Role::Operator)).is_ok());
        assert_eq!(
            may_moderate(&actor(2, Role::MemberLead)),
            Err(DiscussionRefusal::OperatorsOnly)
        );
        assert_eq!(
            may_moderate(&actor(3, Role::MemberUser)),
            Err(DiscussionRefusal::OperatorsOnly)
        );
        for role in Role::ALL {
            assert!(may_take_part(&actor(4, role)).is_ok());
        }
    }

    #[test]
    fn locked_threads_take_no_replies() {
        let a = actor(3, Role::MemberUser);
        assert!(may_reply(&a, false).is_ok());
        assert_eq!(may_reply(&a, true), Err(DiscussionRefusal::Locked));
        assert_eq!(
            may_reply(&actor(1, Role::Operator), true),
            Err(DiscussionRefusal::Locked)
        );
    }

    #[test]
    fn authors_edit_within_a_day() {
        let a = actor(3, Role::MemberUser);
        let post = PostFacts {
            author: Some(UserId(3)),
            created_at: at(1),
            hidden: false,
            thread_locked: false,
        };
        assert!(may_edit(&a, &post, at(23)).is_ok());
        assert_eq!(
            may_edit(&a, &post, at(1) + Duration::hours(25)),
            Err(DiscussionRefusal::TooLate)
        );
        assert_eq!(
            may_edit(&actor(4, Role::MemberUser), &post, at(2)),
            Err(DiscussionRefusal::NotAuthor)
        );
        assert_eq!(
            may_edit(&actor(1, Role::Operator), &post, at(2)),
            Err(DiscussionRefusal::NotAuthor)
        );
        let hidden = PostFacts {
            hidden: true,
            ..post
        };
        assert_eq!(may_edit(&a, &hidden, at(2)), Err(DiscussionRefusal::Hidden));
        let locked = PostFacts {
            thread_locked: true,
            ..post
        };
        assert_eq!(may_edit(&a, &locked, at(2)), Err(DiscussionRefusal::Locked));
    }
}

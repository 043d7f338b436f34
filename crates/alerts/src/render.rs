//! What a message says: alert and digest e-mails (text and HTML) and webhook
//! payloads, rendered from what the store raised. Pure: no clock, no I/O —
//! everything a message depends on is passed in, so a resend after a crash
//! renders the same message (same subject, same `Message-ID`).
//!
//! E-mail HTML is written for mail clients, not browsers: tables for layout,
//! inline styles, no external images, fonts, stylesheets or scripts, and
//! every piece of advisory text escaped (askama escapes `.html` templates).
//! Links are only ever `http(s)` URLs: a source link with any other scheme is
//! shown as text, never as a link.

use askama::Template;
use chrono::NaiveDate;
use openwarp_core::TlpLabel;
use openwarp_matching::priority::Priority;
use openwarp_store::{Alert, AlertKind, DigestPayload, WebhookFormat};
use serde_json::json;

/// Why a message could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("rendering the {template} template: {source}")]
    Template {
        template: &'static str,
        source: askama::Error,
    },
    #[error("encoding the webhook payload: {0}")]
    Json(#[from] serde_json::Error),
}

/// Who is writing and where links point; the same for every message.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// The public URL without a trailing slash, e.g. `https://warp.example.gov.uk`.
    pub public_url: &'a str,
    /// The WARP's name ("SEGWARP"), in subjects and footers.
    pub warp_name: &'a str,
    /// The instance's `link_signing` secret, for unsubscribe links.
    pub link_secret: &'a str,
}

/// A rendered e-mail, ready for the SMTP edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email {
    pub subject: String,
    pub text: String,
    pub html: String,
    /// With angle brackets: `<alert.12.email.user.3@warp.example.gov.uk>`.
    pub message_id: String,
    /// The one-click unsubscribe URL (RFC 8058), for `List-Unsubscribe`.
    pub unsubscribe_url: String,
}

/// The `Message-ID` for a delivery, derived from its idempotency key so a
/// resend after a crash carries the same id and the receiver can drop it.
/// Characters outside `[A-Za-z0-9_-]` are written so the mapping stays
/// one-to-one: `:` becomes `.`, anything else `=XX` per byte.
pub fn message_id(idempotency_key: &str, public_url: &str) -> String {
    let mut local = String::with_capacity(idempotency_key.len());
    for b in idempotency_key.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' => local.push(char::from(b)),
            b':' => local.push('.'),
            other => local.push_str(&format!("={other:02X}")),
        }
    }
    let local = local.trim_matches('.');
    let local = if local.is_empty() { "openwarp" } else { local };
    format!("<{local}@{}>", host_of(public_url))
}

/// The host of the public URL (for `Message-ID`s); `openwarp.invalid` if it
/// has none.
fn host_of(public_url: &str) -> String {
    reqwest::Url::parse(public_url)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "openwarp.invalid".to_string())
}

/// The one-click unsubscribe link for a user, signed with the instance's
/// link secret so nobody can unsubscribe someone else.
pub fn unsubscribe_url(ctx: &Context<'_>, user_id: i64) -> String {
    let signature =
        openwarp_store::crypto::sign(ctx.link_secret, &format!("unsubscribe:{user_id}"));
    format!("{}/unsubscribe?u={user_id}&s={signature}", ctx.public_url)
}

/// A link target as an absolute `http(s)` URL: relative paths are joined to
/// the public URL; anything else (`javascript:`, `data:`, …) is refused.
fn absolute(ctx: &Context<'_>, url: &str) -> Option<String> {
    let url = url.trim();
    if url.starts_with('/') && !url.starts_with("//") {
        return Some(format!("{}{url}", ctx.public_url));
    }
    let lower = url.to_ascii_lowercase();
    (lower.starts_with("https://") || lower.starts_with("http://")).then(|| url.to_string())
}

/// Text that must fit on one header line: control characters (CR, LF, tabs)
/// become spaces and runs of spaces collapse.
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_control() || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The TLP 2.0 colours: the label's text colour on black, as FIRST prescribes.
fn tlp_colour(tlp: TlpLabel) -> &'static str {
    match tlp {
        TlpLabel::Red => "#FF2B2B",
        TlpLabel::Amber | TlpLabel::AmberStrict => "#FFC000",
        TlpLabel::Green => "#33FF00",
        TlpLabel::Clear => "#FFFFFF",
    }
}

/// Background colour of a priority badge (text is white on each).
fn priority_colour(p: Priority) -> &'static str {
    match p {
        Priority::P1 => "#B10E1E",
        Priority::P2 => "#C2410C",
        Priority::P3 => "#1D4ED8",
        Priority::P4 => "#505A5F",
    }
}

fn kind_heading(alert: &Alert) -> &'static str {
    match alert.kind {
        AlertKind::New => "New alert",
        AlertKind::Update => "Update",
        AlertKind::Warp if alert.warp_advisory_id.is_some() => "WARP advisory",
        // Supplier warnings, deadline reminders: the title says what it is.
        AlertKind::Warp => "From the WARP",
    }
}

fn kind_prefix(alert: &Alert) -> &'static str {
    match alert.kind {
        AlertKind::Update => "Update: ",
        AlertKind::Warp if alert.warp_advisory_id.is_some() => "WARP advisory: ",
        // New alerts, supplier warnings and reminders: the title says it.
        AlertKind::New | AlertKind::Warp => "",
    }
}

/// `29 November 2024`.
fn long_date(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

/// `[TLP:CLEAR] P1: Update: CVE-…: title` — the label first, so it is seen
/// (and filtered on) before anything else.
pub fn alert_subject(alert: &Alert) -> String {
    one_line(&format!(
        "[{}] {}: {}{}",
        alert.tlp.label(),
        alert.priority.as_str(),
        kind_prefix(alert),
        alert.title
    ))
}

struct TlpView {
    label: &'static str,
    meaning: &'static str,
    colour: &'static str,
}

impl TlpView {
    fn of(tlp: TlpLabel) -> TlpView {
        TlpView {
            label: tlp.label(),
            meaning: tlp.meaning(),
            colour: tlp_colour(tlp),
        }
    }
}

struct LinkView {
    label: String,
    /// `None`: not an http(s) URL; shown as text only.
    url: Option<String>,
}

struct ItemView {
    item: String,
    owner: Option<String>,
    line: String,
    priority: &'static str,
}

#[derive(Template)]
#[template(path = "alert.html")]
struct AlertHtml<'a> {
    v: &'a AlertView,
}

#[derive(Template)]
#[template(path = "alert.txt")]
struct AlertText<'a> {
    v: &'a AlertView,
}

struct AlertView {
    warp_name: String,
    org_name: String,
    tlp: TlpView,
    heading: &'static str,
    priority: &'static str,
    priority_meaning: &'static str,
    priority_colour: &'static str,
    title: String,
    summary: String,
    reason: String,
    changes: Vec<String>,
    items: Vec<ItemView>,
    action: Option<String>,
    due: Option<String>,
    sources: Vec<LinkView>,
    exposure_url: String,
    unsubscribe_url: String,
}

/// The e-mail for one alert to one user.
pub fn alert_email(
    ctx: &Context<'_>,
    alert: &Alert,
    org_name: &str,
    user_id: i64,
    idempotency_key: &str,
) -> Result<Email, RenderError> {
    let unsubscribe = unsubscribe_url(ctx, user_id);
    let c = &alert.content;
    let view = AlertView {
        warp_name: ctx.warp_name.to_string(),
        org_name: org_name.to_string(),
        tlp: TlpView::of(alert.tlp),
        heading: kind_heading(alert),
        priority: alert.priority.as_str(),
        priority_meaning: alert.priority.meaning(),
        priority_colour: priority_colour(alert.priority),
        title: alert.title.clone(),
        summary: c.summary.clone(),
        reason: c.reason.clone(),
        changes: c.changes.clone(),
        items: c
            .items
            .iter()
            .map(|i| ItemView {
                item: i.item.clone(),
                owner: i.owner.clone().filter(|o| !o.trim().is_empty()),
                line: i.line.clone(),
                priority: i.priority.as_str(),
            })
            .collect(),
        action: c.action.clone().filter(|a| !a.trim().is_empty()),
        due: c.due.map(long_date),
        sources: c
            .sources
            .iter()
            .map(|s| LinkView {
                label: s.label.clone(),
                url: absolute(ctx, &s.url),
            })
            .collect(),
        exposure_url: absolute(ctx, &c.path).unwrap_or_else(|| ctx.public_url.to_string()),
        unsubscribe_url: unsubscribe.clone(),
    };
    let text = AlertText { v: &view }
        .render()
        .map_err(|source| RenderError::Template {
            template: "alert.txt",
            source,
        })?;
    let html = AlertHtml { v: &view }
        .render()
        .map_err(|source| RenderError::Template {
            template: "alert.html",
            source,
        })?;
    Ok(Email {
        subject: alert_subject(alert),
        text,
        html,
        message_id: message_id(idempotency_key, ctx.public_url),
        unsubscribe_url: unsubscribe,
    })
}

struct DigestLine {
    kind: &'static str,
    title: String,
    summary: String,
    reason: String,
    tlp: &'static str,
    url: String,
}

struct DigestGroup {
    priority: &'static str,
    meaning: &'static str,
    colour: &'static str,
    lines: Vec<DigestLine>,
}

struct DigestView {
    warp_name: String,
    org_name: String,
    tlp: TlpView,
    period: String,
    groups: Vec<DigestGroup>,
    unsubscribe_url: String,
    settings_url: String,
}

#[derive(Template)]
#[template(path = "digest.html")]
struct DigestHtml<'a> {
    v: &'a DigestView,
}

#[derive(Template)]
#[template(path = "digest.txt")]
struct DigestText<'a> {
    v: &'a DigestView,
}

/// The most restrictive label among the alerts (CLEAR when there are none):
/// a digest may be shared no further than its most restricted line.
pub fn digest_tlp(alerts: &[Alert]) -> TlpLabel {
    alerts
        .iter()
        .map(|a| a.tlp)
        .max()
        .unwrap_or(TlpLabel::Clear)
}

/// `[TLP:AMBER] SEGWARP digest for Kent County Council: 3 alerts (1 P2, 2 P3)`.
pub fn digest_subject(warp_name: &str, org_name: &str, alerts: &[Alert]) -> String {
    let counts: Vec<String> = Priority::ALL
        .into_iter()
        .filter_map(|p| {
            let n = alerts.iter().filter(|a| a.priority == p).count();
            (n > 0).then(|| format!("{n} {}", p.as_str()))
        })
        .collect();
    let n = alerts.len();
    one_line(&format!(
        "[{}] {warp_name} digest for {org_name}: {n} alert{} ({})",
        digest_tlp(alerts).label(),
        if n == 1 { "" } else { "s" },
        counts.join(", ")
    ))
}

/// The digest e-mail for one user: their alerts of one window, grouped by
/// priority (most urgent first), newest first within each group.
pub fn digest_email(
    ctx: &Context<'_>,
    org_name: &str,
    user_id: i64,
    payload: &DigestPayload,
    alerts: &[Alert],
    idempotency_key: &str,
) -> Result<Email, RenderError> {
    let mut sorted: Vec<&Alert> = alerts.iter().collect();
    sorted.sort_by(|a, b| {
        a.priority
            .cmp(&b.priority)
            .then(b.created_at.cmp(&a.created_at))
            .then(b.id.cmp(&a.id))
    });
    let groups = Priority::ALL
        .into_iter()
        .filter_map(|p| {
            let lines: Vec<DigestLine> = sorted
                .iter()
                .filter(|a| a.priority == p)
                .map(|a| DigestLine {
                    kind: kind_prefix(a),
                    title: a.title.clone(),
                    summary: a.content.summary.clone(),
                    reason: a.content.reason.clone(),
                    tlp: a.tlp.label(),
                    url: absolute(ctx, &a.content.path)
                        .unwrap_or_else(|| ctx.public_url.to_string()),
                })
                .collect();
            (!lines.is_empty()).then(|| DigestGroup {
                priority: p.as_str(),
                meaning: p.meaning(),
                colour: priority_colour(p),
                lines,
            })
        })
        .collect();
    let unsubscribe = unsubscribe_url(ctx, user_id);
    let view = DigestView {
        warp_name: ctx.warp_name.to_string(),
        org_name: org_name.to_string(),
        tlp: TlpView::of(digest_tlp(alerts)),
        period: format!(
            "{} to {}",
            payload.start.format("%-d %B %Y %H:%M UTC"),
            payload.end.format("%-d %B %Y %H:%M UTC")
        ),
        groups,
        unsubscribe_url: unsubscribe.clone(),
        settings_url: format!("{}/account/alerts", ctx.public_url),
    };
    let text = DigestText { v: &view }
        .render()
        .map_err(|source| RenderError::Template {
            template: "digest.txt",
            source,
        })?;
    let html = DigestHtml { v: &view }
        .render()
        .map_err(|source| RenderError::Template {
            template: "digest.html",
            source,
        })?;
    Ok(Email {
        subject: digest_subject(ctx.warp_name, org_name, alerts),
        text,
        html,
        message_id: message_id(idempotency_key, ctx.public_url),
        unsubscribe_url: unsubscribe,
    })
}

/// The body posted to a webhook, in the receiver's format.
pub fn webhook_body(
    ctx: &Context<'_>,
    format: WebhookFormat,
    alert: &Alert,
    org_name: &str,
    idempotency_key: &str,
) -> Result<String, RenderError> {
    let value = match format {
        WebhookFormat::Json => json_payload(ctx, alert, org_name, idempotency_key),
        WebhookFormat::Teams => teams_payload(ctx, alert),
        WebhookFormat::Slack => slack_payload(ctx, alert),
    };
    Ok(serde_json::to_string(&value)?)
}

/// openwarp's own schema: everything the e-mail says, as data.
fn json_payload(
    ctx: &Context<'_>,
    alert: &Alert,
    org_name: &str,
    idempotency_key: &str,
) -> serde_json::Value {
    let c = &alert.content;
    let sources: Vec<serde_json::Value> = c
        .sources
        .iter()
        .filter_map(|s| absolute(ctx, &s.url).map(|url| json!({"label": s.label, "url": url})))
        .collect();
    json!({
        "id": alert.id,
        "idempotency_key": idempotency_key,
        "kind": alert.kind.as_str(),
        "priority": alert.priority.as_str(),
        "tlp": alert.tlp.label(),
        "tlp_meaning": alert.tlp.meaning(),
        "organisation": org_name,
        "vuln_id": alert.vuln_id,
        "title": alert.title,
        "summary": c.summary,
        "reason": c.reason,
        "changes": c.changes,
        "items": c.items.iter().map(|i| json!({
            "item": i.item,
            "owner": i.owner,
            "line": i.line,
            "reason": i.reason,
            "priority": i.priority.as_str(),
        })).collect::<Vec<_>>(),
        "action": c.action,
        "due": c.due.map(|d| d.to_string()),
        "created_at": alert.created_at.to_rfc3339(),
        "links": {
            "exposure": absolute(ctx, &c.path),
            "sources": sources,
        },
    })
}

/// A Microsoft Teams message with an Adaptive Card (what Teams incoming
/// webhooks and Workflows accept).
fn teams_payload(ctx: &Context<'_>, alert: &Alert) -> serde_json::Value {
    let c = &alert.content;
    let mut body = vec![
        json!({"type": "TextBlock", "text": alert.tlp.label(), "weight": "Bolder",
               "color": if alert.tlp >= TlpLabel::Amber { "Warning" } else { "Default" }}),
        json!({"type": "TextBlock", "text": alert.tlp.meaning(), "isSubtle": true, "wrap": true, "spacing": "None"}),
        json!({"type": "TextBlock", "text": format!("{}{}", kind_prefix(alert), alert.title),
               "size": "Large", "weight": "Bolder", "wrap": true}),
        json!({"type": "TextBlock", "text": c.summary, "wrap": true}),
    ];
    let mut facts = vec![
        json!({"title": "Priority", "value": format!("{}: {}", alert.priority.as_str(), alert.priority.meaning())}),
        json!({"title": "Why", "value": c.reason}),
    ];
    if !c.changes.is_empty() {
        facts.push(json!({"title": "What changed", "value": c.changes.join("; ")}));
    }
    if let Some(a) = &c.action {
        facts.push(json!({"title": "Action", "value": a}));
    }
    if let Some(d) = c.due {
        facts.push(json!({"title": "Fix by", "value": long_date(d)}));
    }
    if !c.items.is_empty() {
        let items: Vec<&str> = c.items.iter().map(|i| i.item.as_str()).collect();
        facts.push(json!({"title": "Affected", "value": items.join(", ")}));
    }
    body.push(json!({"type": "FactSet", "facts": facts}));
    let mut actions = Vec::new();
    if let Some(url) = absolute(ctx, &c.path) {
        actions.push(json!({"type": "Action.OpenUrl", "title": "Open in openwarp", "url": url}));
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
                "actions": actions,
            }
        }]
    })
}

/// Slack's `mrkdwn` reserves `&`, `<` and `>`; escaped, hostile text cannot
/// forge links or mentions.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Slack Block Kit text is limited (headers to 150 characters, sections to
/// 3000); longer text is cut with an ellipsis.
fn cut(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A Slack incoming-webhook message: `text` for notifications, `blocks` for
/// the message itself.
fn slack_payload(ctx: &Context<'_>, alert: &Alert) -> serde_json::Value {
    let c = &alert.content;
    let mut lines = vec![
        format!("*{}*", slack_escape(&c.summary)),
        format!(
            "*{}* ({}): {}",
            alert.priority.as_str(),
            alert.priority.meaning(),
            slack_escape(&c.reason)
        ),
    ];
    if !c.changes.is_empty() {
        lines.push(format!(
            "*What changed:* {}",
            slack_escape(&c.changes.join("; "))
        ));
    }
    if let Some(a) = &c.action {
        lines.push(format!("*Action:* {}", slack_escape(a)));
    }
    if let Some(d) = c.due {
        lines.push(format!("*Fix by:* {}", long_date(d)));
    }
    let mut blocks = vec![
        json!({"type": "context", "elements": [{"type": "mrkdwn",
            "text": format!("*{}* {}", alert.tlp.label(), alert.tlp.meaning())}]}),
        json!({"type": "header", "text": {"type": "plain_text", "emoji": false,
            "text": cut(&one_line(&format!("{}{}", kind_prefix(alert), alert.title)), 150)}}),
        json!({"type": "section", "text": {"type": "mrkdwn", "text": cut(&lines.join("\n"), 3000)}}),
    ];
    if let Some(url) = absolute(ctx, &c.path) {
        blocks.push(json!({"type": "actions", "elements": [{"type": "button",
            "text": {"type": "plain_text", "text": "Open in openwarp"}, "url": url}]}));
    }
    json!({
        "text": slack_escape(&alert_subject(alert)),
        "blocks": blocks,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};
    use openwarp_store::{AlertContent, AlertItem, SourceLink};

    const CTX: Context<'static> = Context {
        public_url: "https://warp.example.gov.uk",
        warp_name: "SEGWARP",
        link_secret: "s3cret",
    };

    fn alert(kind: AlertKind, priority: Priority, tlp: TlpLabel, title: &str) -> Alert {
        Alert {
            id: 12,
            org_id: 3,
            kind,
            vuln_id: Some("CVE-2024-21762".into()),
            warp_advisory_id: None,
            priority,
            tlp,
            title: title.into(),
            content: AlertContent {
                summary: "CVE-2024-21762 affects your Firewall 7.2.6: fix now.".into(),
                reason:
                    "P1 because it is being exploited (CISA KEV) and the system is internet-facing"
                        .into(),
                changes: Vec::new(),
                items: vec![AlertItem {
                    exposure_id: 41,
                    item: "Firewall 7.2.6".into(),
                    owner: Some("ICT Ops".into()),
                    line: "affects your Firewall 7.2.6".into(),
                    reason: "P1 because …".into(),
                    priority,
                }],
                action: Some("Apply the vendor's update".into()),
                due: NaiveDate::from_ymd_opt(2024, 2, 16),
                sources: vec![
                    SourceLink {
                        label: "Every source on CVE-2024-21762 in openwarp".into(),
                        url: "/advisories/CVE-2024-21762".into(),
                    },
                    SourceLink {
                        label: "NVD CVE-2024-21762".into(),
                        url: "https://nvd.nist.gov/vuln/detail/CVE-2024-21762".into(),
                    },
                    SourceLink {
                        label: "Sneaky".into(),
                        url: "javascript:alert(1)".into(),
                    },
                ],
                path: "/orgs/3/exposure/41".into(),
            },
            created_at: Utc.with_ymd_and_hms(2024, 2, 9, 10, 0, 0).unwrap(),
        }
    }

    fn fortinet() -> Alert {
        alert(
            AlertKind::New,
            Priority::P1,
            TlpLabel::Clear,
            "CVE-2024-21762: Fortinet FortiOS out-of-bounds write",
        )
    }

    #[test]
    fn subjects_lead_with_tlp_and_priority() {
        assert_eq!(
            alert_subject(&fortinet()),
            "[TLP:CLEAR] P1: CVE-2024-21762: Fortinet FortiOS out-of-bounds write"
        );
        let mut u = fortinet();
        u.kind = AlertKind::Update;
        u.tlp = TlpLabel::AmberStrict;
        assert_eq!(
            alert_subject(&u),
            "[TLP:AMBER+STRICT] P1: Update: CVE-2024-21762: Fortinet FortiOS out-of-bounds write"
        );
        u.kind = AlertKind::Warp;
        u.warp_advisory_id = Some(7);
        u.title = "Phishing\r\nBcc: victim@example.com".into();
        assert_eq!(
            alert_subject(&u),
            "[TLP:AMBER+STRICT] P1: WARP advisory: Phishing Bcc: victim@example.com",
            "no header injection through a title"
        );
        // A supplier warning or reminder from the WARP: its title says what it is.
        u.warp_advisory_id = None;
        u.title = "Supplier warning: ransomware incident involving Mid Kent ICT".into();
        assert_eq!(
            alert_subject(&u),
            "[TLP:AMBER+STRICT] P1: Supplier warning: ransomware incident involving Mid Kent ICT"
        );
    }

    #[test]
    fn alert_email_says_everything_in_both_parts() {
        let e = alert_email(
            &CTX,
            &fortinet(),
            "Kent County Council",
            7,
            "alert:12:email:user:7",
        )
        .unwrap();
        assert_eq!(e.message_id, "<alert.12.email.user.7@warp.example.gov.uk>");
        let sig = openwarp_store::crypto::sign("s3cret", "unsubscribe:7");
        assert_eq!(
            e.unsubscribe_url,
            format!("https://warp.example.gov.uk/unsubscribe?u=7&s={sig}")
        );
        for (part, body) in [("text", &e.text), ("html", &e.html)] {
            assert!(body.contains("TLP:CLEAR"), "{part}: {body}");
            assert!(body.contains(TlpLabel::Clear.meaning()), "{part}");
            assert!(body.contains("fix now"), "{part}");
            assert!(body.contains("CISA KEV"), "{part}: reason");
            assert!(body.contains("Firewall 7.2.6"), "{part}: item");
            assert!(body.contains("ICT Ops"), "{part}: owner");
            assert!(body.contains("Apply the vendor"), "{part}: action");
            assert!(body.contains("16 February 2024"), "{part}: due");
            assert!(
                body.contains("https://warp.example.gov.uk/orgs/3/exposure/41"),
                "{part}: exposure link"
            );
            assert!(
                body.contains("https://warp.example.gov.uk/advisories/CVE-2024-21762"),
                "{part}: relative source made absolute"
            );
            assert!(
                body.contains("https://nvd.nist.gov/vuln/detail/CVE-2024-21762"),
                "{part}"
            );
            assert!(!body.contains("javascript:"), "{part}: no script links");
            assert!(body.contains("/unsubscribe?u=7&"), "{part}: unsubscribe");
        }
        assert!(
            e.html.contains("#000000") || e.html.contains("#000"),
            "black TLP banner"
        );
        assert!(!e.html.contains("<script"), "no scripts");
        assert!(!e.html.contains("<link"), "no external stylesheets");
        assert!(!e.html.contains("<img"), "no remote images");
    }

    #[test]
    fn hostile_text_is_escaped_in_html() {
        let mut a = fortinet();
        a.title = "<script>alert('x')</script> & friends".into();
        a.content.summary = "<img src=x onerror=alert(1)>".into();
        a.content.items[0].item = "<b>box</b>".into();
        let e = alert_email(&CTX, &a, "<Evil & Co>", 1, "k").unwrap();
        assert!(!e.html.contains("<script>"), "{}", e.html);
        assert!(e.html.contains("&#60;script&#62;"), "{}", e.html);
        assert!(!e.html.contains("<img"), "{}", e.html);
        assert!(!e.html.contains("<b>box"), "{}", e.html);
        assert!(!e.html.contains("<Evil"), "{}", e.html);
        // The text part is plain text: shown as written, never interpreted.
        assert!(e.text.contains("<script>alert('x')</script> & friends"));
    }

    #[test]
    fn updates_say_what_changed() {
        let mut a = fortinet();
        a.kind = AlertKind::Update;
        a.content.changes =
            vec!["Added to CISA's Known Exploited Vulnerabilities catalogue".into()];
        let e = alert_email(&CTX, &a, "Kent", 1, "k").unwrap();
        for body in [&e.text, &e.html] {
            assert!(body.contains("What changed"), "{body}");
            assert!(body.contains("Known Exploited Vulnerabilities catalogue"));
        }
        let plain = alert_email(&CTX, &fortinet(), "Kent", 1, "k").unwrap();
        assert!(!plain.text.contains("What changed"));
    }

    #[test]
    fn message_ids_are_stable_and_safe() {
        let url = "https://warp.example.gov.uk/";
        assert_eq!(
            message_id("digest:weekly:2026-W48:user:3", url),
            "<digest.weekly.2026-W48.user.3@warp.example.gov.uk>"
        );
        assert_eq!(
            message_id("a b<c>", url),
            "<a=20b=3Cc=3E@warp.example.gov.uk>"
        );
        assert_eq!(message_id("x", "not a url"), "<x@openwarp.invalid>");
        assert_eq!(message_id("x", "http://127.0.0.1:8080"), "<x@127.0.0.1>");
    }

    #[test]
    fn digests_group_by_priority_newest_first() {
        let mut a1 = alert(AlertKind::New, Priority::P3, TlpLabel::Clear, "Older P3");
        a1.id = 1;
        let mut a2 = alert(AlertKind::New, Priority::P2, TlpLabel::Amber, "The P2");
        a2.id = 2;
        let mut a3 = alert(AlertKind::Update, Priority::P3, TlpLabel::Green, "Newer P3");
        a3.id = 3;
        a3.created_at = a1.created_at + chrono::Duration::hours(2);
        let alerts = vec![a3.clone(), a2.clone(), a1.clone()];
        assert_eq!(
            digest_subject("SEGWARP", "Kent County Council", &alerts),
            "[TLP:AMBER] SEGWARP digest for Kent County Council: 3 alerts (1 P2, 2 P3)"
        );
        assert_eq!(
            digest_subject("SEGWARP", "Kent", &alerts[..1]),
            "[TLP:GREEN] SEGWARP digest for Kent: 1 alert (1 P3)"
        );
        let payload = DigestPayload {
            period_key: "daily:2024-02-10".into(),
            start: a1.created_at,
            end: a1.created_at + chrono::Duration::days(1),
            alert_ids: vec![3, 2, 1],
        };
        let e = digest_email(
            &CTX,
            "Kent",
            9,
            &payload,
            &alerts,
            "digest:daily:2024-02-10:user:9",
        )
        .unwrap();
        for body in [&e.text, &e.html] {
            let p2 = body.find("The P2").unwrap();
            let newer = body.find("Newer P3").unwrap();
            let older = body.find("Older P3").unwrap();
            assert!(p2 < newer && newer < older, "{body}");
            assert!(body.contains("TLP:AMBER"));
            assert!(body.contains("CISA KEV"), "reasons are listed");
            assert!(body.contains("https://warp.example.gov.uk/orgs/3/exposure/41"));
            assert!(body.contains("/unsubscribe?u=9&"));
        }
        assert_eq!(
            e.message_id,
            "<digest.daily.2024-02-10.user.9@warp.example.gov.uk>"
        );
    }

    #[test]
    fn webhook_payloads_carry_the_alert() {
        let a = fortinet();
        let body = webhook_body(
            &CTX,
            WebhookFormat::Json,
            &a,
            "Kent",
            "alert:12:webhook:hook:2",
        )
        .unwrap();
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["idempotency_key"], "alert:12:webhook:hook:2");
        assert_eq!(v["priority"], "P1");
        assert_eq!(v["tlp"], "TLP:CLEAR");
        assert_eq!(v["kind"], "new");
        assert_eq!(v["due"], "2024-02-16");
        assert_eq!(
            v["links"]["exposure"],
            "https://warp.example.gov.uk/orgs/3/exposure/41"
        );
        assert_eq!(v["links"]["sources"].as_array().unwrap().len(), 2);
        assert_eq!(v["items"][0]["item"], "Firewall 7.2.6");

        let teams: serde_json::Value = serde_json::from_str(
            &webhook_body(&CTX, WebhookFormat::Teams, &a, "Kent", "k").unwrap(),
        )
        .unwrap();
        assert_eq!(teams["type"], "message");
        let card = &teams["attachments"][0];
        assert_eq!(
            card["contentType"],
            "application/vnd.microsoft.card.adaptive"
        );
        assert_eq!(card["content"]["type"], "AdaptiveCard");
        assert_eq!(card["content"]["body"][0]["text"], "TLP:CLEAR");

        let mut hostile = a.clone();
        hostile.content.summary = "<!channel> <https://evil|click> & more".into();
        let slack: serde_json::Value = serde_json::from_str(
            &webhook_body(&CTX, WebhookFormat::Slack, &hostile, "Kent", "k").unwrap(),
        )
        .unwrap();
        assert!(
            slack["text"]
                .as_str()
                .unwrap()
                .starts_with("[TLP:CLEAR] P1:")
        );
        let section = slack["blocks"][2]["text"]["text"].as_str().unwrap();
        assert!(section.contains("&lt;!channel&gt; &lt;https://evil|click&gt; &amp; more"));
        assert_eq!(
            slack["blocks"][3]["elements"][0]["url"],
            "https://warp.example.gov.uk/orgs/3/exposure/41"
        );
    }
}

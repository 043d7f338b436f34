//! Alerts, as both front ends change them: a named user's own subscription,
//! an organisation's defaults and webhooks (its member lead), one-click
//! unsubscribe by signed link, and operators' retries of dead deliveries.
//! Also the reading of what forms and clients send, so both front ends refuse
//! the same things with the same words.

use super::require_record_editor;
use crate::AppState;
use crate::audit::record;
use crate::error::AppError;
use openwarp_core::{Actor, OrgId, TlpLabel, UserId, ValidationErrors};
use openwarp_matching::alert::{DIGEST_HOUR_UTC, DigestFrequency, OrgDefaults, UserChoices};
use openwarp_matching::priority::Priority;
use openwarp_store::{
    Alert, DeliveryRow, DeliveryStatus, NewWebhook, Subscription, User, Webhook, WebhookFormat,
    crypto, now,
};

/// At most this many filter words per user.
pub const MAX_FILTERS: usize = 50;
/// Longest filter word, in characters.
pub const MAX_FILTER_CHARS: usize = 100;
/// Longest webhook address, in characters.
pub const MAX_URL_CHARS: usize = 2000;
/// Longest webhook name, in characters.
pub const MAX_WEBHOOK_NAME: usize = 80;
/// The instance secret that signs one-click unsubscribe links.
pub const LINK_SIGNING: &str = "link_signing";

// ---- Reading input -------------------------------------------------------------------

/// The form and API value that means "follow the organisation's default".
pub const DEFAULT: &str = "default";
/// The value that means "no immediate alerts".
pub const NONE: &str = "none";

fn priority_problem(raw: &str) -> String {
    format!("'{}' is not one of P1, P2, P3, P4", raw.trim())
}

/// A priority as typed (`P1`…`P4`, any case).
pub fn priority(raw: &str) -> Result<Priority, String> {
    Priority::parse(raw).ok_or_else(|| priority_problem(raw))
}

/// An organisation's immediate-alert threshold: `P1`…`P4`, or `none`.
pub fn immediate_default(raw: &str) -> Result<Option<Priority>, String> {
    if raw.trim().eq_ignore_ascii_case(NONE) {
        return Ok(None);
    }
    Priority::parse(raw)
        .map(Some)
        .ok_or_else(|| format!("{}, or none", priority_problem(raw)))
}

/// A user's immediate-alert choice: `default` (follow the organisation),
/// `none`, or `P1`…`P4`.
pub fn immediate_choice(raw: &str) -> Result<Option<Option<Priority>>, String> {
    if raw.trim().eq_ignore_ascii_case(DEFAULT) {
        return Ok(None);
    }
    immediate_default(raw)
        .map(Some)
        .map_err(|m| format!("{m}, or default"))
}

fn digest_problem(raw: &str) -> String {
    format!("'{}' is not one of daily, weekly, off", raw.trim())
}

/// How often the organisation's digest comes: `daily`, `weekly` or `off`.
pub fn digest_default(raw: &str) -> Result<DigestFrequency, String> {
    DigestFrequency::parse(raw).ok_or_else(|| digest_problem(raw))
}

/// A user's digest choice: `default`, `daily`, `weekly` or `off`.
pub fn digest_choice(raw: &str) -> Result<Option<DigestFrequency>, String> {
    if raw.trim().eq_ignore_ascii_case(DEFAULT) {
        return Ok(None);
    }
    DigestFrequency::parse(raw)
        .map(Some)
        .ok_or_else(|| format!("{}, or default", digest_problem(raw)))
}

/// Filter words as typed in a text box: one per line or separated by commas.
pub fn split_filters(text: &str) -> impl Iterator<Item = &str> {
    text.split(['\n', ',', ';'])
}

/// Filter words, trimmed, blanks dropped and repeats (in any case) removed;
/// refused when one is too long or there are too many.
pub fn filters<'a>(words: impl IntoIterator<Item = &'a str>) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    for w in words {
        let w = w.trim();
        if w.is_empty() {
            continue;
        }
        if w.chars().count() > MAX_FILTER_CHARS {
            let start: String = w.chars().take(30).collect();
            return Err(format!(
                "'{start}…' is longer than {MAX_FILTER_CHARS} characters; use a shorter word such as the vendor or product name"
            ));
        }
        if w.chars().any(char::is_control) {
            return Err(format!("'{w}' contains control characters"));
        }
        if !out.iter().any(|o| o.to_lowercase() == w.to_lowercase()) {
            out.push(w.to_string());
        }
    }
    if out.len() > MAX_FILTERS {
        return Err(format!(
            "there are {} words; at most {MAX_FILTERS} are allowed",
            out.len()
        ));
    }
    Ok(out)
}

/// Hosts a webhook may reach over plain `http://` (a receiver on this machine).
fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost"),
        url::Host::Ipv4(ip) => ip.is_loopback(),
        url::Host::Ipv6(ip) => ip.is_loopback(),
    }
}

/// A webhook address: `https://…`, or `http://` for 127.0.0.1 or localhost
/// only (everything else would send alerts in clear). No user name or
/// password in the address.
pub fn webhook_url(raw: &str) -> Result<String, String> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err("is required".into());
    }
    if raw.chars().count() > MAX_URL_CHARS {
        return Err(format!("must be at most {MAX_URL_CHARS} characters"));
    }
    let url = url::Url::parse(raw).map_err(|e| {
        format!("is not a web address ({e}); give the full address, starting with https://")
    })?;
    let host = url
        .host()
        .ok_or("has no host name; give the full address, starting with https://")?;
    match url.scheme() {
        "https" => {}
        "http" if is_loopback(&host) => {}
        "http" => {
            return Err(
                "must start with https:// (http:// is allowed only for 127.0.0.1 or localhost)"
                    .into(),
            );
        }
        other => return Err(format!("must start with https://, not {other}:")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not contain a user name or password".into());
    }
    Ok(url.to_string())
}

/// A webhook style: `json`, `teams` or `slack`.
pub fn webhook_format(raw: &str) -> Result<WebhookFormat, String> {
    WebhookFormat::parse(raw.trim().to_ascii_lowercase().as_str()).ok_or_else(|| {
        format!(
            "'{}' is not one of {}",
            raw.trim(),
            WebhookFormat::ALL.map(|f| f.as_str()).join(", ")
        )
    })
}

/// A new webhook from its fields as typed; every problem named by field.
pub fn new_webhook(
    name: &str,
    url: &str,
    format: &str,
    min_priority: &str,
) -> Result<NewWebhook, ValidationErrors> {
    let mut errors = ValidationErrors::new();
    let name = openwarp_core::validation::text(&mut errors, "name", name, 1, MAX_WEBHOOK_NAME);
    let url = webhook_url(url).map_err(|m| errors.add("url", m)).ok();
    let format = webhook_format(format)
        .map_err(|m| errors.add("format", m))
        .ok();
    let min_priority = priority(min_priority)
        .map_err(|m| errors.add("min_priority", m))
        .ok();
    match (url, format, min_priority) {
        (Some(url), Some(format), Some(min_priority)) if errors.is_empty() => Ok(NewWebhook {
            name,
            url,
            format,
            min_priority,
        }),
        _ => Err(errors),
    }
}

/// A delivery status filter: `dead`, `pending`, `sent`, or `all` (or blank) for every status.
pub fn delivery_status(raw: &str) -> Result<Option<DeliveryStatus>, String> {
    match raw.trim() {
        "" | "all" => Ok(None),
        s => DeliveryStatus::parse(s)
            .map(Some)
            .ok_or_else(|| format!("'{s}' is not one of dead, pending, sent, all")),
    }
}

/// An organisation filter: its number, or blank for every organisation.
pub fn org_number(raw: &str) -> Result<Option<OrgId>, String> {
    match raw.trim() {
        "" | "all" => Ok(None),
        s => s
            .parse()
            .map(|n| Some(OrgId(n)))
            .map_err(|_| format!("'{s}' is not an organisation number")),
    }
}

// ---- Words for people ------------------------------------------------------------------

/// "P1 only", "P1 and P2", "P1 to P3", or none.
pub fn immediate_text(min: Option<Priority>) -> String {
    match min {
        None => "None: everything goes in the digest".into(),
        Some(Priority::P1) => "P1 only".into(),
        Some(Priority::P2) => "P1 and P2".into(),
        Some(Priority::P4) => "Every priority (P1 to P4)".into(),
        Some(p) => format!("P1 to {p}"),
    }
}

/// "Daily, at 07:00 UTC".
pub fn digest_text(d: DigestFrequency) -> String {
    match d {
        DigestFrequency::Daily => format!("Daily, at {DIGEST_HOUR_UTC:02}:00 UTC"),
        DigestFrequency::Weekly => format!("Weekly, on Mondays at {DIGEST_HOUR_UTC:02}:00 UTC"),
        DigestFrequency::Off => "Off: no digest".into(),
    }
}

pub fn format_label(f: WebhookFormat) -> &'static str {
    match f {
        WebhookFormat::Json => "JSON (signed with HMAC-SHA256)",
        WebhookFormat::Teams => "Microsoft Teams",
        WebhookFormat::Slack => "Slack",
    }
}

/// A webhook address with its path hidden: Teams and Slack addresses carry
/// their secret in the path, so only the member lead sees it whole.
pub fn masked_url(raw: &str) -> String {
    match url::Url::parse(raw) {
        Ok(u) => match u.host_str() {
            Some(h) => {
                let port = u.port().map(|p| format!(":{p}")).unwrap_or_default();
                format!("{}://{h}{port}/…", u.scheme())
            }
            None => "…".into(),
        },
        Err(_) => "…".into(),
    }
}

// ---- Who may ---------------------------------------------------------------------------

/// A subscription belongs to a member's named user; operators receive no
/// alerts (they follow deliveries instead).
pub fn require_member(user: &User) -> Result<OrgId, AppError> {
    user.org_id.ok_or_else(|| {
        AppError::Forbidden(
            "alert subscriptions are for members' named users; operators follow deliveries on the Deliveries page"
                .into(),
        )
    })
}

/// Changing an organisation's alert defaults and webhooks: its member lead
/// only. Other members get 404 as everywhere; operators 403 (they may look,
/// not change where a member's alerts go); the member's other users 403.
pub fn require_settings_editor(actor: &Actor, org: OrgId) -> Result<(), AppError> {
    require_record_editor(actor, org)?;
    Ok(actor.can_manage_users(org)?)
}

/// An alert `actor` may see, or 404 (the same answer whether it does not
/// exist or belongs to another member).
///
/// A TLP:RED alert is "for the named recipients only": besides operators,
/// only the users it was sent to may read it, not the rest of their
/// organisation.
pub async fn visible_alert(state: &AppState, actor: &Actor, id: i64) -> Result<Alert, AppError> {
    let alert = state.store.alert(id).await?;
    actor
        .can_view_org(OrgId(alert.org_id))
        .map_err(|_| AppError::NotFound("alert"))?;
    if alert.tlp == TlpLabel::Red
        && !actor.is_operator()
        && !state
            .store
            .alerts_sent_to(actor.user_id, &[alert.id])
            .await?
            .contains(&alert.id)
    {
        return Err(AppError::NotFound("alert"));
    }
    Ok(alert)
}

/// `org`'s alerts, newest first, that `actor` may read (see
/// [`visible_alert`] for TLP:RED). The caller has checked `org`.
pub async fn visible_alerts(
    state: &AppState,
    actor: &Actor,
    org: OrgId,
    limit: i64,
) -> Result<Vec<Alert>, AppError> {
    let mut list = state.store.alerts_for_org(org, limit).await?;
    if !actor.is_operator() {
        let red: Vec<i64> = list
            .iter()
            .filter(|a| a.tlp == TlpLabel::Red)
            .map(|a| a.id)
            .collect();
        if !red.is_empty() {
            let sent = state.store.alerts_sent_to(actor.user_id, &red).await?;
            list.retain(|a| a.tlp != TlpLabel::Red || sent.contains(&a.id));
        }
    }
    Ok(list)
}

// ---- Changes ---------------------------------------------------------------------------

fn choices_detail(own: &UserChoices) -> serde_json::Value {
    serde_json::json!({
        "immediate_min": match own.immediate_min {
            None => DEFAULT.to_string(),
            Some(None) => NONE.to_string(),
            Some(Some(p)) => p.as_str().to_string(),
        },
        "digest": own.digest.map_or(DEFAULT, DigestFrequency::as_str),
        "filters": own.filters.len(),
        "paused": own.paused,
        "unsubscribed": own.unsubscribed,
    })
}

/// Replace the signed-in user's own choices.
pub async fn save_subscription(
    state: &AppState,
    user: &User,
    own: &UserChoices,
    ip: &str,
) -> Result<Subscription, AppError> {
    require_member(user)?;
    let before = state.store.subscription(user.id).await?;
    let sub = state.store.set_subscription(user.id, own, now()).await?;
    let action = if before.own.unsubscribed && !own.unsubscribed {
        "alerts.resubscribe"
    } else {
        "alerts.subscription"
    };
    record(
        state,
        Some(user),
        action,
        user.org_id,
        &user.email,
        choices_detail(own),
        Some(ip),
    )
    .await;
    Ok(sub)
}

/// Opt back in after a one-click unsubscribe (other choices are kept).
pub async fn resubscribe(
    state: &AppState,
    user: &User,
    ip: &str,
) -> Result<Subscription, AppError> {
    require_member(user)?;
    let mut own = state.store.subscription(user.id).await?.own;
    own.unsubscribed = false;
    save_subscription(state, user, &own, ip).await
}

/// The signed message of a user's unsubscribe link.
fn unsubscribe_message(user: UserId) -> String {
    format!("unsubscribe:{user}")
}

fn bad_link() -> AppError {
    AppError::BadRequest(
        "this unsubscribe link is not valid: it may have been copied incompletely or changed. \
         Use the link in the most recent alert, or sign in and change your settings under My alerts."
            .into(),
    )
}

/// The user a one-click unsubscribe link names, if its signature is right
/// (400 otherwise; nothing else is revealed about the account).
pub async fn unsubscribe_link_user(
    state: &AppState,
    user: &str,
    signature: &str,
) -> Result<User, AppError> {
    let id: i64 = user.trim().parse().map_err(|_| bad_link())?;
    let secret = state.store.instance_secret(LINK_SIGNING, now()).await?;
    if signature.is_empty()
        || !crypto::verify_signature(&secret, &unsubscribe_message(UserId(id)), signature)
    {
        return Err(bad_link());
    }
    state
        .store
        .get_user(UserId(id))
        .await?
        .ok_or(AppError::NotFound("account"))
}

/// Unsubscribe the user a signed link names from all alert e-mail. The
/// signature is the authentication: mail clients post this without a
/// session or CSRF token (RFC 8058).
pub async fn unsubscribe_by_link(
    state: &AppState,
    user: &str,
    signature: &str,
    ip: &str,
) -> Result<User, AppError> {
    let target = unsubscribe_link_user(state, user, signature).await?;
    let was = state.store.subscription(target.id).await?.own.unsubscribed;
    state.store.unsubscribe(target.id, now()).await?;
    if !was {
        record(
            state,
            Some(&target),
            "alerts.unsubscribe",
            target.org_id,
            &target.email,
            serde_json::json!({ "via": "signed link" }),
            Some(ip),
        )
        .await;
    }
    Ok(target)
}

/// Set an organisation's defaults for its users (its member lead).
pub async fn set_defaults(
    state: &AppState,
    actor: &User,
    org: OrgId,
    defaults: &OrgDefaults,
    ip: &str,
) -> Result<(), AppError> {
    require_settings_editor(&actor.actor(), org)?;
    let before = state.store.alert_defaults(org).await?;
    state
        .store
        .set_alert_defaults(org, defaults, Some(actor.id), now())
        .await?;
    let text = |d: &OrgDefaults| {
        (
            d.immediate_min.map_or(NONE, Priority::as_str),
            d.digest.as_str(),
        )
    };
    let (b, a) = (text(&before), text(defaults));
    record(
        state,
        Some(actor),
        "alerts.defaults",
        Some(org),
        &format!("organisation {org}"),
        serde_json::json!({ "immediate_min": [b.0, a.0], "digest": [b.1, a.1] }),
        Some(ip),
    )
    .await;
    Ok(())
}

/// Add a webhook (its member lead); the answer holds the signing secret,
/// which is shown once.
pub async fn add_webhook(
    state: &AppState,
    actor: &User,
    org: OrgId,
    hook: &NewWebhook,
    ip: &str,
) -> Result<Webhook, AppError> {
    require_settings_editor(&actor.actor(), org)?;
    // Names tell webhooks apart in lists and the audit log.
    if state
        .store
        .webhooks(org)
        .await?
        .iter()
        .any(|w| w.name.to_lowercase() == hook.name.to_lowercase())
    {
        return Err(AppError::Conflict(format!(
            "a webhook named '{}' exists already; choose another name",
            hook.name
        )));
    }
    let w = state
        .store
        .add_webhook(org, hook, Some(actor.id), now())
        .await?;
    record(
        state,
        Some(actor),
        "webhook.add",
        Some(org),
        &w.name,
        serde_json::json!({
            "webhook": w.id,
            "host": masked_url(&w.url),
            "format": w.format.as_str(),
            "min_priority": w.min_priority.as_str(),
        }),
        Some(ip),
    )
    .await;
    Ok(w)
}

/// One of `org`'s webhooks, or 404.
pub async fn org_webhook(state: &AppState, org: OrgId, id: i64) -> Result<Webhook, AppError> {
    let w = state.store.webhook(id).await?;
    if w.org_id != org.0 {
        return Err(AppError::NotFound("webhook"));
    }
    Ok(w)
}

/// Switch a webhook on or off (its member lead).
pub async fn set_webhook_active(
    state: &AppState,
    actor: &User,
    org: OrgId,
    id: i64,
    active: bool,
    ip: &str,
) -> Result<Webhook, AppError> {
    require_settings_editor(&actor.actor(), org)?;
    let w = org_webhook(state, org, id).await?;
    state.store.set_webhook_active(org, id, active).await?;
    record(
        state,
        Some(actor),
        if active {
            "webhook.enable"
        } else {
            "webhook.disable"
        },
        Some(org),
        &w.name,
        serde_json::json!({ "webhook": id }),
        Some(ip),
    )
    .await;
    Ok(Webhook { active, ..w })
}

/// Delete a webhook and its delivery history (its member lead).
pub async fn delete_webhook(
    state: &AppState,
    actor: &User,
    org: OrgId,
    id: i64,
    ip: &str,
) -> Result<Webhook, AppError> {
    require_settings_editor(&actor.actor(), org)?;
    let w = org_webhook(state, org, id).await?;
    state.store.delete_webhook(org, id).await?;
    record(
        state,
        Some(actor),
        "webhook.delete",
        Some(org),
        &w.name,
        serde_json::json!({ "webhook": id, "host": masked_url(&w.url) }),
        Some(ip),
    )
    .await;
    Ok(w)
}

/// Put a dead (or stuck pending) delivery back in the queue (operators).
pub async fn retry_delivery(
    state: &AppState,
    actor: &User,
    id: i64,
    ip: &str,
) -> Result<DeliveryRow, AppError> {
    actor.actor().require_operator()?;
    let before = state
        .store
        .delivery(id)
        .await?
        .ok_or(AppError::NotFound("delivery"))?;
    if before.status == DeliveryStatus::Sent.as_str() {
        return Err(AppError::Conflict(
            "that delivery has been sent; there is nothing to retry".into(),
        ));
    }
    state.store.retry_delivery(id, now()).await?;
    record(
        state,
        Some(actor),
        "delivery.retry",
        Some(OrgId(before.org_id)),
        &before.recipient,
        serde_json::json!({
            "delivery": id,
            "status": before.status,
            "attempts": before.attempts,
            "last_error": before.last_error,
        }),
        Some(ip),
    )
    .await;
    state
        .store
        .delivery(id)
        .await?
        .ok_or(AppError::NotFound("delivery"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_read_default_none_and_priorities() {
        assert_eq!(immediate_choice("default"), Ok(None));
        assert_eq!(immediate_choice(" none "), Ok(Some(None)));
        assert_eq!(immediate_choice("p2"), Ok(Some(Some(Priority::P2))));
        assert!(
            immediate_choice("P5")
                .unwrap_err()
                .contains("not one of P1")
        );
        assert_eq!(immediate_default("none"), Ok(None));
        assert!(immediate_default("default").is_err());
        assert_eq!(digest_choice("Weekly"), Ok(Some(DigestFrequency::Weekly)));
        assert_eq!(digest_choice("default"), Ok(None));
        assert!(digest_default("monthly").unwrap_err().contains("daily"));
    }

    #[test]
    fn filters_are_trimmed_deduplicated_and_bounded() {
        assert_eq!(
            filters(split_filters("Fortinet\n cisco ,,fortinet\n\n")),
            Ok(vec!["Fortinet".to_string(), "cisco".to_string()])
        );
        let long = "x".repeat(MAX_FILTER_CHARS + 1);
        assert!(
            filters([long.as_str()])
                .unwrap_err()
                .contains("longer than 100")
        );
        let ok = "y".repeat(MAX_FILTER_CHARS);
        assert!(filters([ok.as_str()]).is_ok());
        let many: Vec<String> = (0..=MAX_FILTERS).map(|i| format!("w{i}")).collect();
        assert!(
            filters(many.iter().map(String::as_str))
                .unwrap_err()
                .contains("at most 50")
        );
    }

    #[test]
    fn webhook_addresses_need_tls_except_on_loopback() {
        assert_eq!(
            webhook_url(" https://hooks.slack.com/services/T/B/x "),
            Ok("https://hooks.slack.com/services/T/B/x".into())
        );
        assert!(webhook_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(webhook_url("http://localhost/hook").is_ok());
        assert!(webhook_url("http://[::1]:8080/").is_ok());
        assert!(
            webhook_url("http://example.org/hook")
                .unwrap_err()
                .contains("https://")
        );
        // A user name that looks like a loopback host is still another host.
        assert!(webhook_url("http://localhost@evil.example/").is_err());
        assert!(webhook_url("https://user:pw@example.org/").is_err());
        assert!(webhook_url("ftp://example.org/").is_err());
        assert!(webhook_url("not a url").is_err());
        assert!(webhook_url("").is_err());
    }

    #[test]
    fn new_webhook_names_every_bad_field() {
        let e = new_webhook("", "http://example.org", "email", "P9").unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field).collect();
        assert_eq!(fields, vec!["name", "url", "format", "min_priority"]);
        let ok = new_webhook("SOC", "https://example.org/h", "Teams", "p2").unwrap();
        assert_eq!(ok.format, WebhookFormat::Teams);
        assert_eq!(ok.min_priority, Priority::P2);
    }

    #[test]
    fn masked_urls_keep_only_the_host() {
        assert_eq!(
            masked_url("https://hooks.slack.com/services/T/B/secret"),
            "https://hooks.slack.com/…"
        );
        assert_eq!(
            masked_url("http://127.0.0.1:9000/x"),
            "http://127.0.0.1:9000/…"
        );
    }

    #[test]
    fn words_for_thresholds() {
        assert_eq!(immediate_text(Some(Priority::P1)), "P1 only");
        assert_eq!(immediate_text(Some(Priority::P3)), "P1 to P3");
        assert!(digest_text(DigestFrequency::Daily).contains("07:00"));
    }
}

//! Alerts and their delivery: what each named user asked for, the alerts
//! raised for each organisation, and the outbox that carries them.
//!
//! # How an alert is born
//! The matching engine ([`crate::exposures`]) compares each exposure with
//! what the member was last told about it (`exposures.alert_state`, an
//! [`AlertState`]). A new exposure, or a change the rules in
//! [`openwarp_matching::alert::changes`] call meaningful, becomes an
//! [`Alert`] per organisation and vulnerability — in the **same transaction**
//! that writes the exposure, together with one row in `deliveries` per user
//! (and webhook) that wants it at once. So an alert is never lost between the
//! two, and never raised twice: alerts carry a unique `dedup_key` and
//! deliveries a unique idempotency key (alert × channel × recipient).
//!
//! # How it is delivered
//! Workers ([`Store::claim_deliveries`]) take due rows under a lease (on
//! PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several instances share the
//! work without waiting on each other), send, and mark them sent
//! ([`Store::delivery_sent`]) or failed ([`Store::delivery_failed`]: retried
//! with exponential backoff, dead-lettered after
//! [`openwarp_matching::alert::MAX_ATTEMPTS`] or at once on a permanent
//! error). A worker that dies mid-send leaves its lease to expire; the row is
//! sent again with the same idempotency key, which the message carries
//! (`Message-ID`, `Idempotency-Key`), so receivers can drop the duplicate.
//!
//! Digests ([`Store::queue_digests`]) are deliveries too, one per user and
//! digest window, keyed by the window so each is queued once.

use crate::sealing::SecretColumn;
use crate::{Result, Store, StoreError, conflict_on_unique, corrupt, crypto, on_pool};
use chrono::{DateTime, Duration, NaiveDate, Utc};
use openwarp_core::{OrgId, TlpLabel, UserId};
use openwarp_matching::alert::{
    DigestFrequency, DigestPeriod, OrgDefaults, Preferences, Route, UserChoices, digest_period,
    route,
};
use openwarp_matching::priority::Priority;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A vulnerability newly affects the member.
    New,
    /// Something that matters changed about a vulnerability the member was told of.
    Update,
    /// An advisory written by the WARP's operators.
    Warp,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::New => "new",
            AlertKind::Update => "update",
            AlertKind::Warp => "warp",
        }
    }
    pub fn parse(s: &str) -> Option<AlertKind> {
        [AlertKind::New, AlertKind::Update, AlertKind::Warp]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// One affected system named in an alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertItem {
    pub exposure_id: i64,
    /// The item as the member calls it, with its version.
    pub item: String,
    pub owner: Option<String>,
    /// The plain-English line for this item.
    pub line: String,
    /// "P1 because …".
    pub reason: String,
    pub priority: Priority,
}

/// A link to a source of the alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SourceLink {
    pub label: String,
    pub url: String,
}

/// Everything a message about an alert says, decided when the alert is
/// raised (so a resend says the same thing).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertContent {
    /// The one line a busy reader needs.
    pub summary: String,
    /// Why this priority, in words ("P1 because it is being exploited …").
    pub reason: String,
    /// For follow-ups: what changed since the member was last told.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<String>,
    /// The member's affected systems (vulnerability alerts).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<AlertItem>,
    /// What to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub action: Option<String>,
    /// Fix by (KEV deadline, or the priority's response time).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due: Option<NaiveDate>,
    /// Where it came from, to check the source.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sources: Vec<SourceLink>,
    /// The page in openwarp with the details, relative to the public URL
    /// (e.g. `/orgs/3/exposure/41`).
    pub path: String,
}

/// An alert raised for one organisation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub id: i64,
    pub org_id: i64,
    pub kind: AlertKind,
    pub vuln_id: Option<String>,
    pub warp_advisory_id: Option<i64>,
    pub priority: Priority,
    pub tlp: TlpLabel,
    pub title: String,
    pub content: AlertContent,
    pub created_at: DateTime<Utc>,
}

impl Alert {
    /// Product words the user's filters are matched against.
    pub fn subjects(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.title.as_str())
            .chain(self.content.items.iter().map(|i| i.item.as_str()))
    }
}

/// An alert to raise (before it has an id).
#[derive(Debug, Clone, PartialEq)]
pub struct NewAlert {
    pub org_id: i64,
    pub kind: AlertKind,
    pub vuln_id: Option<String>,
    pub warp_advisory_id: Option<i64>,
    pub priority: Priority,
    pub tlp: TlpLabel,
    pub title: String,
    pub content: AlertContent,
    /// Raising an alert with a key already used does nothing.
    pub dedup_key: String,
}

/// How a delivery reaches its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Webhook,
}

impl Channel {
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Webhook => "webhook",
        }
    }
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    Pending,
    Sent,
    /// Given up: a permanent error, or too many attempts. Operators can retry.
    Dead,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Pending => "pending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Dead => "dead",
        }
    }
    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        [
            DeliveryStatus::Pending,
            DeliveryStatus::Sent,
            DeliveryStatus::Dead,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
    }
}

/// Webhook payload styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WebhookFormat {
    /// openwarp's own JSON, signed with HMAC-SHA256.
    Json,
    /// A Microsoft Teams incoming-webhook / Workflows message card.
    Teams,
    /// A Slack incoming-webhook message.
    Slack,
}

impl WebhookFormat {
    pub const ALL: [WebhookFormat; 3] = [
        WebhookFormat::Json,
        WebhookFormat::Teams,
        WebhookFormat::Slack,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookFormat::Json => "json",
            WebhookFormat::Teams => "teams",
            WebhookFormat::Slack => "slack",
        }
    }
    pub fn parse(s: &str) -> Option<WebhookFormat> {
        WebhookFormat::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// An organisation's webhook.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Webhook {
    pub id: i64,
    pub org_id: i64,
    pub name: String,
    pub url: String,
    pub format: WebhookFormat,
    /// The HMAC key; shown to the member lead so the receiver can verify.
    #[serde(skip)]
    pub secret: String,
    /// Alerts at or above this priority are posted.
    pub min_priority: Priority,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

/// A webhook to add.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhook {
    pub name: String,
    pub url: String,
    pub format: WebhookFormat,
    pub min_priority: Priority,
}

/// A user's subscription as stored, and as it works out.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Subscription {
    pub user_id: i64,
    pub own: UserChoices,
    pub defaults: OrgDefaults,
    pub effective: Preferences,
}

/// Who a delivery goes to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Recipient {
    Email {
        user_id: i64,
        email: String,
        name: String,
    },
    Webhook(Webhook),
}

/// A digest's window and alerts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DigestPayload {
    pub period_key: String,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub alert_ids: Vec<i64>,
}

/// A claimed delivery with everything needed to send it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DeliveryJob {
    pub id: i64,
    /// Unique per (alert, channel, recipient) or (digest window, user); the
    /// message carries it so a receiver can drop a resend.
    pub idempotency_key: String,
    pub org_id: i64,
    pub org_name: String,
    /// Failed attempts so far.
    pub attempts: u32,
    pub recipient: Recipient,
    /// The alert, for an alert delivery.
    pub alert: Option<Alert>,
    /// The window and its alerts (newest first), for a digest.
    pub digest: Option<(DigestPayload, Vec<Alert>)>,
}

/// A delivery as operators and members see it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct DeliveryRow {
    pub id: i64,
    pub idempotency_key: String,
    pub kind: String,
    pub channel: String,
    pub org_id: i64,
    pub org_name: String,
    pub alert_id: Option<i64>,
    pub alert_title: Option<String>,
    /// E-mail address or webhook name.
    pub recipient: String,
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: DateTime<Utc>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

/// Which deliveries to list.
#[derive(Debug, Clone, Default)]
pub struct DeliveryFilter {
    pub status: Option<DeliveryStatus>,
    pub org: Option<OrgId>,
    pub alert_id: Option<i64>,
    pub limit: Option<i64>,
}

/// Counts of deliveries by status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DeliveryCounts {
    pub pending: i64,
    pub sent: i64,
    pub dead: i64,
}

/// A user who may receive alerts, with their preferences.
#[derive(Debug, Clone)]
pub(crate) struct Subscriber {
    pub user_id: i64,
    pub prefs: Preferences,
}

/// Per organisation: who receives what.
#[derive(Debug, Clone, Default)]
pub(crate) struct Audience {
    pub subscribers: HashMap<i64, Vec<Subscriber>>,
    pub webhooks: HashMap<i64, Vec<(i64, Priority)>>,
}

impl Audience {
    /// The immediate deliveries for one alert: `(channel, user_id, webhook_id)`.
    pub fn immediate(&self, alert: &NewAlert) -> Vec<(Channel, Option<i64>, Option<i64>)> {
        let mut out = Vec::new();
        let subjects: Vec<&str> = std::iter::once(alert.title.as_str())
            .chain(alert.content.items.iter().map(|i| i.item.as_str()))
            .collect();
        for s in self.subscribers.get(&alert.org_id).into_iter().flatten() {
            let r = if alert.kind == AlertKind::Warp {
                route(&s.prefs, alert.priority, None)
            } else {
                let mut it = subjects.iter().copied();
                route(&s.prefs, alert.priority, Some(&mut it))
            };
            if r == Route::Immediate {
                out.push((Channel::Email, Some(s.user_id), None));
            }
        }
        for (id, min) in self.webhooks.get(&alert.org_id).into_iter().flatten() {
            if alert.priority <= *min {
                out.push((Channel::Webhook, None, Some(*id)));
            }
        }
        out
    }
}

impl Audience {
    /// Exactly these users `(user, organisation)`, by e-mail at once whatever
    /// their alert thresholds (they asked for this kind of news explicitly,
    /// e.g. by opting in to new questions and polls); no webhooks. A paused
    /// or unsubscribed user's e-mail is still cancelled when claimed.
    pub(crate) fn of_users(users: &[(i64, i64)]) -> Audience {
        let mut audience = Audience::default();
        for (user, org) in users {
            audience
                .subscribers
                .entry(*org)
                .or_default()
                .push(Subscriber {
                    user_id: *user,
                    prefs: Preferences {
                        immediate_min: Some(Priority::P4),
                        digest: DigestFrequency::Off,
                        filters: Vec::new(),
                        silenced: false,
                    },
                });
        }
        audience
    }
}

/// The `dedup_key` prefix of alerts raised for explicit recipients: they are
/// news for those users only, so digests (which gather an organisation's
/// alerts for each of its users) leave them out.
pub(crate) const FOR_USERS: &str = "to-users:";

/// One copy of `alert` per organisation among `users` `(user, organisation)`
/// (its `org_id` set, its `dedup_key` prefixed with [`FOR_USERS`] and
/// suffixed with `:org:{id}`), and the audience of exactly those users: see
/// [`Store::raise_alert_for_users`].
pub(crate) fn alerts_for_users(
    alert: &NewAlert,
    users: &[(i64, i64)],
) -> (Vec<NewAlert>, Audience) {
    let mut orgs: Vec<i64> = users.iter().map(|(_, o)| *o).collect();
    orgs.sort_unstable();
    orgs.dedup();
    let alerts = orgs
        .into_iter()
        .map(|org| NewAlert {
            org_id: org,
            dedup_key: format!("{FOR_USERS}{}:org:{org}", alert.dedup_key),
            ..alert.clone()
        })
        .collect();
    (alerts, Audience::of_users(users))
}

fn immediate_from_db(v: Option<i64>) -> Option<Option<Priority>> {
    v.map(|n| if n == 0 { None } else { Priority::from_rank(n) })
}

fn immediate_to_db(v: Option<Priority>) -> i64 {
    v.map_or(0, |p| i64::from(p.rank()))
}

#[derive(sqlx::FromRow)]
struct SubscriberRow {
    user_id: i64,
    org_id: i64,
    s_immediate: Option<i64>,
    s_digest: Option<String>,
    s_filters: Option<String>,
    s_paused: Option<bool>,
    s_unsubscribed: Option<bool>,
    d_immediate: Option<i64>,
    d_digest: Option<String>,
}

impl SubscriberRow {
    fn split(&self) -> Result<(OrgDefaults, UserChoices)> {
        let mut defaults = OrgDefaults::default();
        if let Some(d) = self.d_immediate {
            defaults.immediate_min = if d == 0 { None } else { Priority::from_rank(d) };
        }
        if let Some(d) = &self.d_digest {
            defaults.digest =
                DigestFrequency::parse(d).ok_or_else(|| corrupt(format!("digest {d}")))?;
        }
        let own = UserChoices {
            immediate_min: immediate_from_db(self.s_immediate),
            digest: match &self.s_digest {
                Some(d) => {
                    Some(DigestFrequency::parse(d).ok_or_else(|| corrupt(format!("digest {d}")))?)
                }
                None => None,
            },
            filters: match &self.s_filters {
                Some(f) => serde_json::from_str(f).map_err(corrupt)?,
                None => Vec::new(),
            },
            paused: self.s_paused.unwrap_or(false),
            unsubscribed: self.s_unsubscribed.unwrap_or(false),
        };
        Ok((defaults, own))
    }
}

macro_rules! subscriber_select {
    () => {
        "SELECT u.id AS user_id, u.org_id AS org_id, s.immediate_min AS s_immediate, s.digest AS s_digest, \
         s.filters AS s_filters, s.paused AS s_paused, s.unsubscribed AS s_unsubscribed, \
         d.immediate_min AS d_immediate, d.digest AS d_digest \
         FROM users u JOIN organisations o ON o.id = u.org_id \
         LEFT JOIN subscriptions s ON s.user_id = u.id \
         LEFT JOIN alert_defaults d ON d.org_id = u.org_id \
         WHERE u.disabled = FALSE AND o.status IN ('pending', 'active', 'lapsed')"
    };
}

#[derive(sqlx::FromRow)]
struct AlertRow {
    id: i64,
    org_id: i64,
    kind: String,
    vuln_id: Option<String>,
    warp_advisory_id: Option<i64>,
    priority: i64,
    tlp: String,
    title: String,
    content: String,
    created_at: DateTime<Utc>,
}

impl TryFrom<AlertRow> for Alert {
    type Error = StoreError;
    fn try_from(r: AlertRow) -> Result<Alert> {
        Ok(Alert {
            id: r.id,
            org_id: r.org_id,
            kind: AlertKind::parse(&r.kind)
                .ok_or_else(|| corrupt(format!("alert kind {}", r.kind)))?,
            vuln_id: r.vuln_id,
            warp_advisory_id: r.warp_advisory_id,
            priority: Priority::from_rank(r.priority)
                .ok_or_else(|| corrupt(format!("priority {}", r.priority)))?,
            tlp: TlpLabel::parse(&r.tlp).ok_or_else(|| corrupt(format!("tlp {}", r.tlp)))?,
            title: r.title,
            content: serde_json::from_str(&r.content).map_err(corrupt)?,
            created_at: r.created_at,
        })
    }
}

const ALERT_COLUMNS: &str =
    "id, org_id, kind, vuln_id, warp_advisory_id, priority, tlp, title, content, created_at";

#[derive(sqlx::FromRow)]
struct WebhookRow {
    id: i64,
    org_id: i64,
    name: String,
    url: String,
    format: String,
    secret: String,
    min_priority: i64,
    active: bool,
    created_at: DateTime<Utc>,
}

impl TryFrom<WebhookRow> for Webhook {
    type Error = StoreError;
    fn try_from(r: WebhookRow) -> Result<Webhook> {
        Ok(Webhook {
            id: r.id,
            org_id: r.org_id,
            name: r.name,
            url: r.url,
            format: WebhookFormat::parse(&r.format)
                .ok_or_else(|| corrupt(format!("webhook format {}", r.format)))?,
            secret: r.secret,
            min_priority: Priority::from_rank(r.min_priority)
                .ok_or_else(|| corrupt(format!("priority {}", r.min_priority)))?,
            active: r.active,
            created_at: r.created_at,
        })
    }
}

/// Insert alerts and their immediate deliveries inside a transaction; one
/// implementation per backend from one body.
pub(crate) trait AlertTx {
    async fn queue_alerts(
        &mut self,
        alerts: &[NewAlert],
        audience: &Audience,
        now: DateTime<Utc>,
    ) -> Result<(u64, u64)>;
}

macro_rules! impl_alert_tx {
    ($db:ty) => {
        impl AlertTx for sqlx::Transaction<'_, $db> {
            async fn queue_alerts(
                &mut self,
                alerts: &[NewAlert],
                audience: &Audience,
                now: DateTime<Utc>,
            ) -> Result<(u64, u64)> {
                let (mut raised, mut queued) = (0u64, 0u64);
                for a in alerts {
                    let content = serde_json::to_string(&a.content).map_err(corrupt)?;
                    let id: Option<(i64,)> = sqlx::query_as(
                        "INSERT INTO alerts (org_id, kind, vuln_id, warp_advisory_id, priority, tlp, title, \
                         content, dedup_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) \
                         ON CONFLICT (dedup_key) DO NOTHING RETURNING id",
                    )
                    .bind(a.org_id)
                    .bind(a.kind.as_str())
                    .bind(&a.vuln_id)
                    .bind(a.warp_advisory_id)
                    .bind(i64::from(a.priority.rank()))
                    .bind(a.tlp.as_str())
                    .bind(&a.title)
                    .bind(&content)
                    .bind(&a.dedup_key)
                    .bind(now)
                    .fetch_optional(&mut **self)
                    .await?;
                    let Some((alert_id,)) = id else { continue };
                    raised += 1;
                    let targets = audience.immediate(a);
                    for chunk in targets.chunks(500) {
                        let mut qb = sqlx::QueryBuilder::new(
                            "INSERT INTO deliveries (idempotency_key, kind, channel, org_id, alert_id, user_id, \
                             webhook_id, status, next_attempt_at, created_at) ",
                        );
                        qb.push_values(chunk, |mut b, (channel, user, hook)| {
                            let key = match (user, hook) {
                                (Some(u), _) => format!("alert:{alert_id}:{}:user:{u}", channel.as_str()),
                                (_, Some(h)) => format!("alert:{alert_id}:{}:hook:{h}", channel.as_str()),
                                _ => format!("alert:{alert_id}:{}", channel.as_str()),
                            };
                            b.push_bind(key)
                                .push_bind("alert")
                                .push_bind(channel.as_str())
                                .push_bind(a.org_id)
                                .push_bind(alert_id)
                                .push_bind(*user)
                                .push_bind(*hook)
                                .push_bind("pending")
                                .push_bind(now)
                                .push_bind(now);
                        });
                        qb.push(" ON CONFLICT (idempotency_key) DO NOTHING");
                        let done = qb.build().execute(&mut **self).await?;
                        queued += done.rows_affected();
                    }
                }
                Ok((raised, queued))
            }
        }
    };
}
impl_alert_tx!(sqlx::Sqlite);
impl_alert_tx!(sqlx::Postgres);

/// The lease a worker holds on claimed deliveries; after it expires another
/// worker may take them.
pub const DELIVERY_LEASE: Duration = Duration::seconds(120);

impl Store {
    /// Who in these organisations receives alerts, and how.
    pub(crate) async fn audience(&self, orgs: &[i64]) -> Result<Audience> {
        let mut audience = Audience::default();
        for chunk in orgs.chunks(400) {
            let rows: Vec<SubscriberRow> = on_pool!(self, |p| {
                let mut qb =
                    sqlx::QueryBuilder::new(concat!(subscriber_select!(), " AND u.org_id"));
                crate::exposures::push_in(&mut qb, chunk.iter().copied());
                qb.build_query_as().fetch_all(p).await
            })?;
            for r in rows {
                let (defaults, own) = r.split()?;
                audience
                    .subscribers
                    .entry(r.org_id)
                    .or_default()
                    .push(Subscriber {
                        user_id: r.user_id,
                        prefs: Preferences::effective(&defaults, &own),
                    });
            }
            let hooks: Vec<(i64, i64, i64)> = on_pool!(self, |p| {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT id, org_id, min_priority FROM webhooks WHERE active = TRUE AND org_id",
                );
                crate::exposures::push_in(&mut qb, chunk.iter().copied());
                qb.build_query_as().fetch_all(p).await
            })?;
            for (id, org, min) in hooks {
                let min =
                    Priority::from_rank(min).ok_or_else(|| corrupt(format!("priority {min}")))?;
                audience.webhooks.entry(org).or_default().push((id, min));
            }
        }
        Ok(audience)
    }

    /// Raise alerts (skipping any whose `dedup_key` was used) and queue their
    /// immediate deliveries, in one transaction. Returns (alerts raised,
    /// deliveries queued).
    pub async fn raise_alerts(
        &self,
        alerts: &[NewAlert],
        now: DateTime<Utc>,
    ) -> Result<(u64, u64)> {
        if alerts.is_empty() {
            return Ok((0, 0));
        }
        let mut orgs: Vec<i64> = alerts.iter().map(|a| a.org_id).collect();
        orgs.sort_unstable();
        orgs.dedup();
        let audience = self.audience(&orgs).await?;
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let counts = tx.queue_alerts(alerts, &audience, now).await?;
            tx.commit().await?;
            Ok(counts)
        })
    }

    /// Raise `alert` for explicit recipients rather than by alert
    /// preferences: one alert per organisation the given users belong to
    /// (its `org_id` is ignored; the `dedup_key` becomes
    /// `to-users:{key}:org:{id}`) and an immediate e-mail to each given user
    /// only; no other user of the organisation gets it in a digest. Operators (who have no
    /// organisation), disabled users and users of organisations that may not
    /// sign in are skipped. Returns (alerts raised, deliveries queued).
    pub async fn raise_alert_for_users(
        &self,
        alert: &NewAlert,
        users: &[UserId],
        now: DateTime<Utc>,
    ) -> Result<(u64, u64)> {
        let mut found: Vec<(i64, i64)> = Vec::new();
        for chunk in users.chunks(400) {
            let rows: Vec<(i64, i64)> = on_pool!(self, |p| {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT u.id, u.org_id FROM users u JOIN organisations o ON o.id = u.org_id \
                     WHERE u.disabled = FALSE AND o.status IN ('pending', 'active', 'lapsed') AND u.id",
                );
                crate::exposures::push_in(&mut qb, chunk.iter().map(|u| u.0));
                qb.build_query_as().fetch_all(p).await
            })?;
            found.extend(rows);
        }
        if found.is_empty() {
            return Ok((0, 0));
        }
        let (alerts, audience) = alerts_for_users(alert, &found);
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let counts = tx.queue_alerts(&alerts, &audience, now).await?;
            tx.commit().await?;
            Ok(counts)
        })
    }

    /// One alert.
    pub async fn alert(&self, id: i64) -> Result<Alert> {
        let row: Option<AlertRow> = on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new("SELECT ");
            qb.push(ALERT_COLUMNS)
                .push(" FROM alerts WHERE id = ")
                .push_bind(id);
            qb.build_query_as().fetch_optional(p).await
        })?;
        row.ok_or(StoreError::NotFound("alert"))?.try_into()
    }

    /// An organisation's alerts, newest first.
    pub async fn alerts_for_org(&self, org: OrgId, limit: i64) -> Result<Vec<Alert>> {
        let rows: Vec<AlertRow> = on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new("SELECT ");
            qb.push(ALERT_COLUMNS)
                .push(" FROM alerts WHERE org_id = ")
                .push_bind(org.0)
                .push(" ORDER BY created_at DESC, id DESC LIMIT ")
                .push_bind(limit);
            qb.build_query_as().fetch_all(p).await
        })?;
        rows.into_iter().map(Alert::try_from).collect()
    }

    async fn alerts_by_id(&self, ids: &[i64]) -> Result<Vec<Alert>> {
        let mut out = Vec::new();
        for chunk in ids.chunks(400) {
            let rows: Vec<AlertRow> = on_pool!(self, |p| {
                let mut qb = sqlx::QueryBuilder::new("SELECT ");
                qb.push(ALERT_COLUMNS).push(" FROM alerts WHERE id");
                crate::exposures::push_in(&mut qb, chunk.iter().copied());
                qb.build_query_as().fetch_all(p).await
            })?;
            for r in rows {
                out.push(Alert::try_from(r)?);
            }
        }
        out.sort_by(|a, b| b.created_at.cmp(&a.created_at).then(b.id.cmp(&a.id)));
        Ok(out)
    }

    /// Which of these alerts were sent to `user`, at once or in a digest:
    /// who may read a TLP:RED alert ("for the named recipients only").
    pub async fn alerts_sent_to(
        &self,
        user: UserId,
        ids: &[i64],
    ) -> Result<std::collections::HashSet<i64>> {
        let mut out = std::collections::HashSet::new();
        if ids.is_empty() {
            return Ok(out);
        }
        for chunk in ids.chunks(400) {
            let rows: Vec<(Option<i64>,)> = on_pool!(self, |p| {
                let mut qb =
                    sqlx::QueryBuilder::new("SELECT alert_id FROM deliveries WHERE user_id = ");
                qb.push_bind(user.0).push(" AND alert_id");
                crate::exposures::push_in(&mut qb, chunk.iter().copied());
                qb.build_query_as().fetch_all(p).await
            })?;
            out.extend(rows.into_iter().filter_map(|(a,)| a));
        }
        let digests: Vec<(String,)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT payload FROM deliveries WHERE user_id = $1 AND kind = 'digest'")
                .bind(user.0)
                .fetch_all(p)
                .await
        })?;
        let wanted: std::collections::HashSet<i64> = ids.iter().copied().collect();
        for (payload,) in digests {
            let p: DigestPayload = serde_json::from_str(&payload).map_err(corrupt)?;
            out.extend(p.alert_ids.into_iter().filter(|a| wanted.contains(a)));
        }
        Ok(out)
    }

    // ---- Subscriptions and defaults -------------------------------------------------

    /// A user's subscription (their own choices over their organisation's defaults).
    pub async fn subscription(&self, user: UserId) -> Result<Subscription> {
        let row: Option<SubscriberRow> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT u.id AS user_id, u.org_id AS org_id, s.immediate_min AS s_immediate, s.digest AS s_digest, \
                 s.filters AS s_filters, s.paused AS s_paused, s.unsubscribed AS s_unsubscribed, \
                 d.immediate_min AS d_immediate, d.digest AS d_digest \
                 FROM users u LEFT JOIN subscriptions s ON s.user_id = u.id \
                 LEFT JOIN alert_defaults d ON d.org_id = u.org_id WHERE u.id = $1"
            )
            .bind(user.0)
            .fetch_optional(p)
            .await
        })?;
        let row = row.ok_or(StoreError::NotFound("user"))?;
        let (defaults, own) = row.split()?;
        Ok(Subscription {
            user_id: row.user_id,
            effective: Preferences::effective(&defaults, &own),
            own,
            defaults,
        })
    }

    /// Replace a user's own choices.
    pub async fn set_subscription(
        &self,
        user: UserId,
        own: &UserChoices,
        now: DateTime<Utc>,
    ) -> Result<Subscription> {
        let filters = serde_json::to_string(&own.filters).map_err(corrupt)?;
        on_pool!(self, |p| {
            sqlx::query(
                "INSERT INTO subscriptions (user_id, immediate_min, digest, filters, paused, unsubscribed, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (user_id) DO UPDATE SET \
                 immediate_min = excluded.immediate_min, digest = excluded.digest, filters = excluded.filters, \
                 paused = excluded.paused, unsubscribed = excluded.unsubscribed, updated_at = excluded.updated_at",
            )
            .bind(user.0)
            .bind(own.immediate_min.map(immediate_to_db))
            .bind(own.digest.map(DigestFrequency::as_str))
            .bind(&filters)
            .bind(own.paused)
            .bind(own.unsubscribed)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        self.subscription(user).await
    }

    /// One-click unsubscribe: no more e-mail to this user until they opt back in.
    pub async fn unsubscribe(&self, user: UserId, now: DateTime<Utc>) -> Result<()> {
        let mut own = self.subscription(user).await?.own;
        own.unsubscribed = true;
        self.set_subscription(user, &own, now).await.map(|_| ())
    }

    /// An organisation's defaults for its users.
    pub async fn alert_defaults(&self, org: OrgId) -> Result<OrgDefaults> {
        let row: Option<(i64, String)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT immediate_min, digest FROM alert_defaults WHERE org_id = $1")
                .bind(org.0)
                .fetch_optional(p)
                .await
        })?;
        let Some((imm, digest)) = row else {
            return Ok(OrgDefaults::default());
        };
        Ok(OrgDefaults {
            immediate_min: if imm == 0 {
                None
            } else {
                Priority::from_rank(imm)
            },
            digest: DigestFrequency::parse(&digest)
                .ok_or_else(|| corrupt(format!("digest {digest}")))?,
        })
    }

    pub async fn set_alert_defaults(
        &self,
        org: OrgId,
        d: &OrgDefaults,
        by: Option<UserId>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query(
                "INSERT INTO alert_defaults (org_id, immediate_min, digest, updated_at, updated_by) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (org_id) DO UPDATE SET \
                 immediate_min = excluded.immediate_min, digest = excluded.digest, \
                 updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            )
            .bind(org.0)
            .bind(immediate_to_db(d.immediate_min))
            .bind(d.digest.as_str())
            .bind(now)
            .bind(by.map(|u| u.0))
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    // ---- Webhooks --------------------------------------------------------------------

    /// Add a webhook with a fresh random signing secret.
    pub async fn add_webhook(
        &self,
        org: OrgId,
        w: &NewWebhook,
        by: Option<UserId>,
        now: DateTime<Utc>,
    ) -> Result<Webhook> {
        let secret = self.seal_text(SecretColumn::WebhookSecret, &crypto::new_token())?;
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
                "INSERT INTO webhooks (org_id, name, url, format, secret, min_priority, active, created_at, created_by) \
                 VALUES ($1, $2, $3, $4, $5, $6, TRUE, $7, $8) RETURNING id",
            )
            .bind(org.0)
            .bind(&w.name)
            .bind(&w.url)
            .bind(w.format.as_str())
            .bind(&secret)
            .bind(i64::from(w.min_priority.rank()))
            .bind(now)
            .bind(by.map(|u| u.0))
            .fetch_one(p)
            .await
            .map_err(conflict_on_unique("a webhook with that name exists"))
        })?;
        self.webhook(id).await
    }

    pub async fn webhook(&self, id: i64) -> Result<Webhook> {
        let row: Option<WebhookRow> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, org_id, name, url, format, secret, min_priority, active, created_at FROM webhooks WHERE id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        self.opened(row.ok_or(StoreError::NotFound("webhook"))?.try_into()?)
    }

    /// A webhook as read, with its signing secret opened.
    fn opened(&self, mut w: Webhook) -> Result<Webhook> {
        w.secret = self.open_text(SecretColumn::WebhookSecret, &w.secret)?;
        Ok(w)
    }

    pub async fn webhooks(&self, org: OrgId) -> Result<Vec<Webhook>> {
        let rows: Vec<WebhookRow> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id, org_id, name, url, format, secret, min_priority, active, created_at FROM webhooks \
                 WHERE org_id = $1 ORDER BY name, id",
            )
            .bind(org.0)
            .fetch_all(p)
            .await
        })?;
        rows.into_iter()
            .map(|r| self.opened(Webhook::try_from(r)?))
            .collect()
    }

    /// Switch a webhook on or off (its history stays).
    pub async fn set_webhook_active(&self, org: OrgId, id: i64, active: bool) -> Result<()> {
        let done = on_pool!(self, |p| {
            sqlx::query("UPDATE webhooks SET active = $1 WHERE id = $2 AND org_id = $3")
                .bind(active)
                .bind(id)
                .bind(org.0)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(StoreError::NotFound("webhook"));
        }
        Ok(())
    }

    /// Delete a webhook and its deliveries.
    pub async fn delete_webhook(&self, org: OrgId, id: i64) -> Result<()> {
        let done = on_pool!(self, |p| {
            sqlx::query("DELETE FROM webhooks WHERE id = $1 AND org_id = $2")
                .bind(id)
                .bind(org.0)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(StoreError::NotFound("webhook"));
        }
        Ok(())
    }

    // ---- The outbox ------------------------------------------------------------------

    /// Claim up to `limit` due deliveries for `worker` until `now + lease`.
    pub async fn claim_deliveries(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
    ) -> Result<Vec<DeliveryJob>> {
        self.claim_deliveries_on(worker, now, lease, limit, None)
            .await
    }

    /// [`Store::claim_deliveries`], of one channel only (e.g. webhooks only
    /// while no mail server is configured, so waiting e-mail is not claimed
    /// over and over).
    pub async fn claim_deliveries_on(
        &self,
        worker: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: i64,
        channel: Option<Channel>,
    ) -> Result<Vec<DeliveryJob>> {
        let until = now + lease;
        let channel = channel.map(Channel::as_str);
        let ids: Vec<(i64,)> = match &self.db {
            crate::Db::Sqlite(p) => {
                sqlx::query_as(
                    "UPDATE deliveries SET lease_owner = $1, lease_until = $2 WHERE id IN (\
                     SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $3 \
                     AND (lease_until IS NULL OR lease_until < $3) AND ($5 IS NULL OR channel = $5) \
                     ORDER BY next_attempt_at, id LIMIT $4) RETURNING id",
                )
                .bind(worker)
                .bind(until)
                .bind(now)
                .bind(limit)
                .bind(channel)
                .fetch_all(p)
                .await?
            }
            crate::Db::Postgres(p) => {
                sqlx::query_as(
                    "UPDATE deliveries SET lease_owner = $1, lease_until = $2 WHERE id IN (\
                     SELECT id FROM deliveries WHERE status = 'pending' AND next_attempt_at <= $3 \
                     AND (lease_until IS NULL OR lease_until < $3) AND ($5::TEXT IS NULL OR channel = $5) \
                     ORDER BY next_attempt_at, id LIMIT $4 FOR UPDATE SKIP LOCKED) RETURNING id",
                )
                .bind(worker)
                .bind(until)
                .bind(now)
                .bind(limit)
                .bind(channel)
                .fetch_all(p)
                .await?
            }
        };
        let mut ids: Vec<i64> = ids.into_iter().map(|(i,)| i).collect();
        ids.sort_unstable();
        let mut jobs = Vec::with_capacity(ids.len());
        for id in ids {
            // Preferences may have changed since the delivery was queued: an
            // unsubscribe takes effect at once (RFC 8058 expects no further
            // mail), as do pausing, disabling the account or the webhook.
            if let Some(reason) = self.delivery_unwanted(id).await? {
                self.delivery_failed(id, &format!("cancelled: {reason}"), None, now)
                    .await?;
                continue;
            }
            jobs.push(self.delivery_job(id).await?);
        }
        Ok(jobs)
    }

    /// Why a queued delivery should no longer go out, if it should not.
    async fn delivery_unwanted(&self, id: i64) -> Result<Option<&'static str>> {
        #[allow(clippy::type_complexity)]
        let row: Option<(
            Option<bool>,
            Option<bool>,
            Option<bool>,
            Option<bool>,
            Option<String>,
        )> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT u.disabled, s.paused, s.unsubscribed, w.active, o.status \
                     FROM deliveries d JOIN organisations o ON o.id = d.org_id \
                     LEFT JOIN users u ON u.id = d.user_id \
                     LEFT JOIN subscriptions s ON s.user_id = d.user_id \
                     LEFT JOIN webhooks w ON w.id = d.webhook_id WHERE d.id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        let Some((disabled, paused, unsubscribed, hook_active, org_status)) = row else {
            return Ok(Some("the delivery is gone"));
        };
        Ok(if disabled == Some(true) {
            Some("the recipient's account is disabled")
        } else if unsubscribed == Some(true) {
            Some("the recipient unsubscribed")
        } else if paused == Some(true) {
            Some("the recipient paused alerts")
        } else if hook_active == Some(false) {
            Some("the webhook is switched off")
        } else if !matches!(org_status.as_deref(), Some("pending" | "active" | "lapsed")) {
            Some("the organisation's membership has ended")
        } else {
            None
        })
    }

    /// Everything needed to send one delivery.
    pub async fn delivery_job(&self, id: i64) -> Result<DeliveryJob> {
        #[allow(clippy::type_complexity)]
        let row: Option<(
            i64,
            String,
            String,
            i64,
            String,
            Option<i64>,
            Option<i64>,
            Option<i64>,
            String,
            i64,
            Option<String>,
            Option<String>,
        )> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT d.id, d.idempotency_key, d.kind, d.org_id, o.name, d.alert_id, d.user_id, d.webhook_id, \
                 d.payload, d.attempts, u.email, u.display_name \
                 FROM deliveries d JOIN organisations o ON o.id = d.org_id \
                 LEFT JOIN users u ON u.id = d.user_id WHERE d.id = $1",
            )
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        let (
            id,
            key,
            kind,
            org_id,
            org_name,
            alert_id,
            user_id,
            webhook_id,
            payload,
            attempts,
            email,
            name,
        ) = row.ok_or(StoreError::NotFound("delivery"))?;
        let recipient = match (user_id, webhook_id, email) {
            (Some(user_id), _, Some(email)) => Recipient::Email {
                user_id,
                email,
                name: name.unwrap_or_default(),
            },
            (_, Some(h), _) => Recipient::Webhook(self.webhook(h).await?),
            _ => return Err(corrupt(format!("delivery {id} has no recipient"))),
        };
        let alert = match alert_id {
            Some(a) => Some(self.alert(a).await?),
            None => None,
        };
        let digest = if kind == "digest" {
            let p: DigestPayload = serde_json::from_str(&payload).map_err(corrupt)?;
            let alerts = self.alerts_by_id(&p.alert_ids).await?;
            Some((p, alerts))
        } else {
            None
        };
        Ok(DeliveryJob {
            id,
            idempotency_key: key,
            org_id,
            org_name,
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            recipient,
            alert,
            digest,
        })
    }

    /// The delivery was accepted by the mail server or webhook receiver.
    pub async fn delivery_sent(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query(
                "UPDATE deliveries SET status = 'sent', sent_at = $1, lease_owner = NULL, lease_until = NULL, \
                 last_error = NULL WHERE id = $2 AND status = 'pending'",
            )
            .bind(now)
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(())
    }

    /// The delivery failed. It is retried at `retry_at`, or dead-lettered
    /// when `retry_at` is `None` (a permanent error, or too many attempts).
    pub async fn delivery_failed(
        &self,
        id: i64,
        error: &str,
        retry_at: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
    ) -> Result<DeliveryStatus> {
        let error: String = error.chars().take(1000).collect();
        let status = if retry_at.is_some() {
            DeliveryStatus::Pending
        } else {
            DeliveryStatus::Dead
        };
        on_pool!(self, |p| {
            sqlx::query(
                "UPDATE deliveries SET status = $1, attempts = attempts + 1, next_attempt_at = $2, \
                 last_error = $3, lease_owner = NULL, lease_until = NULL WHERE id = $4 AND status = 'pending'",
            )
            .bind(status.as_str())
            .bind(retry_at.unwrap_or(now))
            .bind(&error)
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        Ok(status)
    }

    /// Put a dead (or pending) delivery back in the queue for now.
    pub async fn retry_delivery(&self, id: i64, now: DateTime<Utc>) -> Result<()> {
        let done = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1, \
                 lease_owner = NULL, lease_until = NULL WHERE id = $2 AND status <> 'sent'",
            )
            .bind(now)
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(StoreError::NotFound("undelivered delivery"));
        }
        Ok(())
    }

    /// Deliveries, newest first.
    pub async fn deliveries(&self, f: &DeliveryFilter) -> Result<Vec<DeliveryRow>> {
        on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT d.id, d.idempotency_key, d.kind, d.channel, d.org_id, o.name AS org_name, d.alert_id, \
                 a.title AS alert_title, COALESCE(u.email, w.name, '') AS recipient, d.status, d.attempts, \
                 d.next_attempt_at, d.last_error, d.created_at, d.sent_at \
                 FROM deliveries d JOIN organisations o ON o.id = d.org_id \
                 LEFT JOIN alerts a ON a.id = d.alert_id LEFT JOIN users u ON u.id = d.user_id \
                 LEFT JOIN webhooks w ON w.id = d.webhook_id WHERE 1 = 1",
            );
            if let Some(s) = f.status {
                qb.push(" AND d.status = ").push_bind(s.as_str());
            }
            if let Some(o) = f.org {
                qb.push(" AND d.org_id = ").push_bind(o.0);
            }
            if let Some(a) = f.alert_id {
                qb.push(" AND d.alert_id = ").push_bind(a);
            }
            qb.push(" ORDER BY d.id DESC LIMIT ")
                .push_bind(f.limit.unwrap_or(200).clamp(1, 2000));
            Ok(qb.build_query_as().fetch_all(p).await?)
        })
    }

    /// How many deliveries are pending, sent and dead.
    pub async fn delivery_counts(&self) -> Result<DeliveryCounts> {
        let rows: Vec<(String, i64)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT status, COUNT(*) FROM deliveries GROUP BY status")
                .fetch_all(p)
                .await
        })?;
        let mut c = DeliveryCounts::default();
        for (s, n) in rows {
            match s.as_str() {
                "pending" => c.pending = n,
                "sent" => c.sent = n,
                "dead" => c.dead = n,
                _ => {}
            }
        }
        Ok(c)
    }

    // ---- Digests ---------------------------------------------------------------------

    /// Queue the digests of every window that has closed by `now` and was not
    /// queued yet: one delivery per user with anything to report, listing
    /// the alerts of the window that their preferences route to the digest.
    /// Safe to run often and from several instances at once. Returns the
    /// number of digests queued.
    pub async fn queue_digests(&self, now: DateTime<Utc>) -> Result<u64> {
        let mut queued = 0;
        for frequency in [DigestFrequency::Daily, DigestFrequency::Weekly] {
            let Some(period) = digest_period(frequency, now) else {
                continue;
            };
            let done: Option<(String,)> = on_pool!(self, |p| {
                sqlx::query_as("SELECT period_key FROM digest_runs WHERE period_key = $1")
                    .bind(&period.key)
                    .fetch_optional(p)
                    .await
            })?;
            if done.is_some() {
                continue;
            }
            queued += self.queue_digest_window(frequency, &period, now).await?;
            on_pool!(self, |p| {
                sqlx::query(
                    "INSERT INTO digest_runs (period_key, done_at) VALUES ($1, $2) ON CONFLICT (period_key) DO NOTHING",
                )
                .bind(&period.key)
                .bind(now)
                .execute(p)
                .await
                .map(|r| r.rows_affected())
            })?;
        }
        Ok(queued)
    }

    async fn queue_digest_window(
        &self,
        frequency: DigestFrequency,
        period: &DigestPeriod,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let rows: Vec<AlertRow> = on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new("SELECT ");
            qb.push(ALERT_COLUMNS)
                .push(" FROM alerts WHERE created_at >= ")
                .push_bind(period.start)
                .push(" AND created_at < ")
                .push_bind(period.end)
                .push(" AND dedup_key NOT LIKE ")
                .push_bind(format!("{FOR_USERS}%"))
                .push(" ORDER BY created_at DESC, id DESC");
            qb.build_query_as().fetch_all(p).await
        })?;
        let mut by_org: HashMap<i64, Vec<Alert>> = HashMap::new();
        for r in rows {
            let a = Alert::try_from(r)?;
            by_org.entry(a.org_id).or_default().push(a);
        }
        if by_org.is_empty() {
            return Ok(0);
        }
        let orgs: Vec<i64> = by_org.keys().copied().collect();
        let audience = self.audience(&orgs).await?;
        let mut rows: Vec<(String, i64, i64, String)> = Vec::new();
        for (org, alerts) in &by_org {
            for s in audience.subscribers.get(org).into_iter().flatten() {
                if s.prefs.digest != frequency {
                    continue;
                }
                let ids: Vec<i64> = alerts
                    .iter()
                    .filter(|a| {
                        let r = if a.kind == AlertKind::Warp {
                            route(&s.prefs, a.priority, None)
                        } else {
                            let mut it = a.subjects();
                            route(&s.prefs, a.priority, Some(&mut it))
                        };
                        r == Route::Digest
                    })
                    .map(|a| a.id)
                    .collect();
                if ids.is_empty() {
                    continue;
                }
                let payload = DigestPayload {
                    period_key: period.key.clone(),
                    start: period.start,
                    end: period.end,
                    alert_ids: ids,
                };
                rows.push((
                    format!("digest:{}:user:{}", period.key, s.user_id),
                    *org,
                    s.user_id,
                    serde_json::to_string(&payload).map_err(corrupt)?,
                ));
            }
        }
        let mut queued = 0;
        for chunk in rows.chunks(500) {
            let done = on_pool!(self, |p| {
                let mut qb = sqlx::QueryBuilder::new(
                    "INSERT INTO deliveries (idempotency_key, kind, channel, org_id, user_id, payload, status, \
                     next_attempt_at, created_at) ",
                );
                qb.push_values(chunk, |mut b, (key, org, user, payload)| {
                    b.push_bind(key)
                        .push_bind("digest")
                        .push_bind("email")
                        .push_bind(*org)
                        .push_bind(*user)
                        .push_bind(payload)
                        .push_bind("pending")
                        .push_bind(now)
                        .push_bind(now);
                });
                qb.push(" ON CONFLICT (idempotency_key) DO NOTHING");
                qb.build().execute(p).await.map(|r| r.rows_affected())
            })?;
            queued += done;
        }
        Ok(queued)
    }

    /// What `user`'s next digest holds so far: the alerts since the last
    /// window closed that their preferences route to the digest (for a
    /// preview). Daily when their digest is off, so there is something to see.
    pub async fn next_digest(
        &self,
        user: UserId,
        now: DateTime<Utc>,
    ) -> Result<(DigestPayload, Vec<Alert>)> {
        let sub = self.subscription(user).await?;
        let org: Option<(Option<i64>,)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT org_id FROM users WHERE id = $1")
                .bind(user.0)
                .fetch_optional(p)
                .await
        })?;
        let Some((Some(org),)) = org else {
            return Err(StoreError::NotFound("member user"));
        };
        let frequency = match sub.effective.digest {
            DigestFrequency::Off => DigestFrequency::Daily,
            f => f,
        };
        let start = digest_period(frequency, now).map_or(now, |p| p.end);
        let rows: Vec<AlertRow> = on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new("SELECT ");
            qb.push(ALERT_COLUMNS)
                .push(" FROM alerts WHERE org_id = ")
                .push_bind(org)
                .push(" AND created_at >= ")
                .push_bind(start)
                .push(" AND dedup_key NOT LIKE ")
                .push_bind(format!("{FOR_USERS}%"))
                .push(" ORDER BY created_at DESC, id DESC LIMIT 500");
            qb.build_query_as().fetch_all(p).await
        })?;
        let mut prefs = sub.effective.clone();
        prefs.silenced = false;
        prefs.digest = frequency;
        let mut alerts = Vec::new();
        for r in rows {
            let a = Alert::try_from(r)?;
            let r = if a.kind == AlertKind::Warp {
                route(&prefs, a.priority, None)
            } else {
                let mut it = a.subjects();
                route(&prefs, a.priority, Some(&mut it))
            };
            if r == Route::Digest {
                alerts.push(a);
            }
        }
        let payload = DigestPayload {
            period_key: format!("preview:{}", now.format("%Y-%m-%dT%H:%M")),
            start,
            end: now,
            alert_ids: alerts.iter().map(|a| a.id).collect(),
        };
        Ok((payload, alerts))
    }

    // ---- Secrets ---------------------------------------------------------------------

    /// A random secret shared by every instance on this database (created on
    /// first use), e.g. `link_signing` for one-click unsubscribe links.
    pub async fn instance_secret(&self, name: &str, now: DateTime<Utc>) -> Result<String> {
        let fresh = self.seal_text(SecretColumn::InstanceSecret, &crypto::new_token())?;
        on_pool!(self, |p| {
            sqlx::query(
                "INSERT INTO instance_secrets (name, value, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(&fresh)
            .bind(now)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        let (value,): (String,) = on_pool!(self, |p| {
            sqlx::query_as("SELECT value FROM instance_secrets WHERE name = $1")
                .bind(name)
                .fetch_one(p)
                .await
        })?;
        self.open_text(SecretColumn::InstanceSecret, &value)
    }
}

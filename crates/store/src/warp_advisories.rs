//! WARP advisories: warnings the WARP's operators write, review and publish
//! (the rules are [`openwarp_core::warp_advisory`]'s).
//!
//! # Contract
//! - Each change is one conditional `UPDATE` that only applies in the status
//!   (and, for edits, submissions, reviews and publication, by the operator)
//!   the workflow allows, so two operators racing cannot skip a step; a
//!   refused change writes nothing and answers [`StoreError::Conflict`].
//! - [`Store::publish_warp_advisory`] publishes and raises the alerts in **one
//!   transaction**: one alert per audience organisation (dedup key
//!   `warp:{id}:{org}`), with its immediate deliveries queued through the
//!   same subscriptions and channels as vulnerability alerts. An advisory
//!   leaves `in_review` only once, and the dedup keys make a second raise a
//!   no-op, so a member is never alerted twice.
//! - The audience is found through the inventory index (`inventory_keys`),
//!   never by scanning inventories: each product becomes the keys items are
//!   filed under ([`openwarp_matching::keys`]).
//! - The alerts raised are the record of whom an advisory reached; members
//!   of an audience-limited (or `TLP:RED`) advisory see it only if their
//!   organisation is among them ([`openwarp_core::warp_advisory::member_may_see`]).

use crate::alerts::{AlertContent, AlertKind, AlertTx, NewAlert, SourceLink};
use crate::{Result, Store, StoreError, corrupt, on_pool};
use chrono::{DateTime, Duration, Utc};
use openwarp_core::warp_advisory::{Audience, ProductRef, WarpAdvisoryDraft, WarpLink, WarpStatus};
use openwarp_core::{OrgId, TlpLabel, UserId};
use openwarp_matching::keys;
use openwarp_matching::priority::Priority;
use openwarp_matching::purl::Purl;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// Organisation statuses whose users may sign in, and so receive advisories
/// (`MembershipStatus::allows_sign_in`).
macro_rules! live_orgs {
    () => {
        "('pending', 'active', 'lapsed')"
    };
}

/// A WARP advisory as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct WarpAdvisory {
    pub id: i64,
    pub draft: WarpAdvisoryDraft,
    pub status: WarpStatus,
    /// `None` when the author's account has been deleted.
    pub author_id: Option<UserId>,
    pub author_name: Option<String>,
    /// Who last reviewed it: asked for changes or published it.
    pub reviewer_id: Option<UserId>,
    pub reviewer_name: Option<String>,
    /// The last request for changes.
    pub review_note: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub published_at: Option<DateTime<Utc>>,
}

impl WarpAdvisory {
    pub fn priority(&self) -> Priority {
        Priority::from_rank(i64::from(self.draft.priority)).unwrap_or(Priority::P4)
    }
}

/// Which advisories to list.
#[derive(Debug, Clone, Default)]
pub struct WarpAdvisoryFilter {
    pub status: Option<WarpStatus>,
    /// A member organisation's view: only published advisories it may see.
    pub visible_to: Option<OrgId>,
    /// At most this many (default 200).
    pub limit: Option<i64>,
}

/// An organisation an advisory would reach, and which of its products the
/// organisation's inventory lists (empty for an advisory to all members).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AudienceOrg {
    pub org_id: OrgId,
    pub org_name: String,
    pub products: Vec<String>,
}

/// An organisation an advisory reached: its alert and how its deliveries stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WarpReach {
    pub org_id: OrgId,
    pub org_name: String,
    pub alert_id: i64,
    pub alerted_at: DateTime<Utc>,
    /// Immediate deliveries queued for it (e-mails and webhooks).
    pub deliveries: i64,
    /// Of which sent.
    pub sent: i64,
}

/// What publishing did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Published {
    pub advisory: WarpAdvisory,
    /// Organisations in the audience.
    pub orgs: usize,
    /// Alerts raised (one per organisation).
    pub alerts: u64,
    /// Immediate deliveries queued.
    pub deliveries: u64,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    title: String,
    summary: String,
    action: String,
    tlp: String,
    priority: i64,
    audience: String,
    products: String,
    cves: String,
    links: String,
    status: String,
    author_id: Option<i64>,
    author_name: Option<String>,
    reviewer_id: Option<i64>,
    reviewer_name: Option<String>,
    review_note: Option<String>,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    submitted_at: Option<DateTime<Utc>>,
    published_at: Option<DateTime<Utc>>,
}

impl TryFrom<Row> for WarpAdvisory {
    type Error = StoreError;
    fn try_from(r: Row) -> Result<WarpAdvisory> {
        let priority = u8::try_from(r.priority)
            .ok()
            .filter(|p| (1..=4).contains(p))
            .ok_or_else(|| corrupt(format!("warp advisory priority {}", r.priority)))?;
        let products: Vec<ProductRef> = serde_json::from_str(&r.products).map_err(corrupt)?;
        let cves: Vec<String> = serde_json::from_str(&r.cves).map_err(corrupt)?;
        let links: Vec<WarpLink> = serde_json::from_str(&r.links).map_err(corrupt)?;
        Ok(WarpAdvisory {
            id: r.id,
            draft: WarpAdvisoryDraft {
                title: r.title,
                summary: r.summary,
                action: r.action,
                tlp: TlpLabel::parse(&r.tlp).ok_or_else(|| corrupt(format!("tlp {}", r.tlp)))?,
                priority,
                audience: Audience::parse(&r.audience)
                    .ok_or_else(|| corrupt(format!("audience {}", r.audience)))?,
                products,
                cves,
                links,
            },
            status: WarpStatus::parse(&r.status)
                .ok_or_else(|| corrupt(format!("warp advisory status {}", r.status)))?,
            author_id: r.author_id.map(UserId),
            author_name: r.author_name,
            reviewer_id: r.reviewer_id.map(UserId),
            reviewer_name: r.reviewer_name,
            review_note: r.review_note,
            created_at: r.created_at,
            updated_at: r.updated_at,
            submitted_at: r.submitted_at,
            published_at: r.published_at,
        })
    }
}

const SELECT: &str = "SELECT w.id, w.title, w.summary, w.action, w.tlp, w.priority, w.audience, \
     w.products, w.cves, w.links, w.status, w.author_id, a.display_name AS author_name, \
     w.reviewer_id, r.display_name AS reviewer_name, w.review_note, w.created_at, w.updated_at, \
     w.submitted_at, w.published_at \
     FROM warp_advisories w LEFT JOIN users a ON a.id = w.author_id \
     LEFT JOIN users r ON r.id = w.reviewer_id";

/// The JSON columns of a draft.
fn json_columns(d: &WarpAdvisoryDraft) -> Result<(String, String, String)> {
    Ok((
        serde_json::to_string(&d.products).map_err(corrupt)?,
        serde_json::to_string(&d.cves).map_err(corrupt)?,
        serde_json::to_string(&d.links).map_err(corrupt)?,
    ))
}

/// The index keys an inventory item listing `product` is filed under (see
/// [`openwarp_matching::keys::item_keys`]): both the `cpe:` and `name:` form
/// of a vendor and product, or a package key.
pub fn product_keys(product: &ProductRef) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let pair = match product {
        ProductRef::VendorProduct { vendor, product } => keys::name_key(vendor, product),
        ProductRef::Cpe(cpe) => keys::cpe_key_of(cpe).map(|k| k.replacen("cpe:", "name:", 1)),
        ProductRef::Package(purl) => {
            out.extend(Purl::parse(purl).ok().map(|p| p.key()));
            None
        }
    };
    if let Some(name) = pair {
        out.insert(name.replacen("name:", "cpe:", 1));
        out.insert(name);
    }
    out
}

/// Why the WARP sent this to an organisation, in words.
fn reason(priority: Priority, audience: Audience, matched: &[String]) -> String {
    let why = match audience {
        Audience::All => "sent to every member".to_string(),
        Audience::Products => format!(
            "sent to you because your inventory lists {}",
            matched.join(", ")
        ),
    };
    format!(
        "{priority} ({}), set by the WARP's operators; {why}.",
        priority.meaning()
    )
}

impl Store {
    /// A new draft by `author`.
    pub async fn create_warp_advisory(
        &self,
        draft: &WarpAdvisoryDraft,
        author: UserId,
        now: DateTime<Utc>,
    ) -> Result<WarpAdvisory> {
        let (products, cves, links) = json_columns(draft)?;
        let (id,): (i64,) = on_pool!(self, |p| {
            sqlx::query_as(
                "INSERT INTO warp_advisories (title, summary, action, tlp, priority, audience, products, cves, \
                 links, status, author_id, created_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'draft', $10, $11, $11) RETURNING id",
            )
            .bind(&draft.title)
            .bind(&draft.summary)
            .bind(&draft.action)
            .bind(draft.tlp.as_str())
            .bind(i64::from(draft.priority))
            .bind(draft.audience.as_str())
            .bind(&products)
            .bind(&cves)
            .bind(&links)
            .bind(author.0)
            .bind(now)
            .fetch_one(p)
            .await
        })?;
        self.warp_advisory_or_404(id).await
    }

    /// One advisory.
    pub async fn warp_advisory(&self, id: i64) -> Result<Option<WarpAdvisory>> {
        let row: Option<Row> = on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new(SELECT);
            qb.push(" WHERE w.id = ").push_bind(id);
            qb.build_query_as().fetch_optional(p).await
        })?;
        row.map(WarpAdvisory::try_from).transpose()
    }

    async fn warp_advisory_or_404(&self, id: i64) -> Result<WarpAdvisory> {
        self.warp_advisory(id)
            .await?
            .ok_or(StoreError::NotFound("WARP advisory"))
    }

    /// Advisories, most recently changed first.
    pub async fn warp_advisories(&self, f: &WarpAdvisoryFilter) -> Result<Vec<WarpAdvisory>> {
        let rows: Vec<Row> = on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new(SELECT);
            qb.push(" WHERE 1 = 1");
            if let Some(s) = f.status {
                qb.push(" AND w.status = ").push_bind(s.as_str());
            }
            if let Some(org) = f.visible_to {
                // member_may_see, for the published ones a member lists.
                qb.push(
                    " AND w.status = 'published' AND ((w.audience = 'all' AND w.tlp <> 'red') \
                     OR EXISTS (SELECT 1 FROM alerts x WHERE x.warp_advisory_id = w.id AND x.org_id = ",
                )
                .push_bind(org.0)
                .push("))");
            }
            qb.push(" ORDER BY w.updated_at DESC, w.id DESC LIMIT ")
                .push_bind(f.limit.unwrap_or(200).clamp(1, 2000));
            qb.build_query_as().fetch_all(p).await
        })?;
        rows.into_iter().map(WarpAdvisory::try_from).collect()
    }

    /// How many advisories are in each status (for the operators' list).
    pub async fn warp_advisory_counts(&self) -> Result<BTreeMap<String, i64>> {
        let rows: Vec<(String, i64)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT status, COUNT(*) FROM warp_advisories GROUP BY status")
                .fetch_all(p)
                .await
        })?;
        Ok(rows.into_iter().collect())
    }

    /// Explain a refused change: 404 when there is no such advisory, else a
    /// conflict naming its status.
    async fn refused(&self, id: i64, what: &str) -> StoreError {
        match self.warp_advisory(id).await {
            Ok(Some(a)) => StoreError::Conflict(format!(
                "the advisory is {} and cannot be {what} now",
                a.status.label().to_lowercase()
            )),
            Ok(None) => StoreError::NotFound("WARP advisory"),
            Err(e) => e,
        }
    }

    /// Replace a draft's (or an advisory in review's) content, by its author
    /// (or anyone, adopting it, when the author's account is gone). An
    /// advisory in review goes back to draft.
    pub async fn update_warp_advisory(
        &self,
        id: i64,
        draft: &WarpAdvisoryDraft,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<WarpAdvisory> {
        let (products, cves, links) = json_columns(draft)?;
        let done = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE warp_advisories SET title = $1, summary = $2, action = $3, tlp = $4, priority = $5, \
                 audience = $6, products = $7, cves = $8, links = $9, status = 'draft', \
                 author_id = COALESCE(author_id, $10), submitted_at = NULL, updated_at = $11 \
                 WHERE id = $12 AND status IN ('draft', 'in_review') AND (author_id IS NULL OR author_id = $10)",
            )
            .bind(&draft.title)
            .bind(&draft.summary)
            .bind(&draft.action)
            .bind(draft.tlp.as_str())
            .bind(i64::from(draft.priority))
            .bind(draft.audience.as_str())
            .bind(&products)
            .bind(&cves)
            .bind(&links)
            .bind(by.0)
            .bind(now)
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(self.refused(id, "edited by you").await);
        }
        self.warp_advisory_or_404(id).await
    }

    /// Ask for review (the author, from draft).
    pub async fn submit_warp_advisory(
        &self,
        id: i64,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<WarpAdvisory> {
        let done = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE warp_advisories SET status = 'in_review', author_id = COALESCE(author_id, $1), \
                 submitted_at = $2, updated_at = $2 \
                 WHERE id = $3 AND status = 'draft' AND (author_id IS NULL OR author_id = $1)",
            )
            .bind(by.0)
            .bind(now)
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(self.refused(id, "submitted by you").await);
        }
        self.warp_advisory_or_404(id).await
    }

    /// Send an advisory in review back to its author with a note (another
    /// operator than the author).
    pub async fn request_warp_advisory_changes(
        &self,
        id: i64,
        reviewer: UserId,
        note: &str,
        now: DateTime<Utc>,
    ) -> Result<WarpAdvisory> {
        let done = on_pool!(self, |p| {
            sqlx::query(
                "UPDATE warp_advisories SET status = 'draft', reviewer_id = $1, review_note = $2, \
                 submitted_at = NULL, updated_at = $3 \
                 WHERE id = $4 AND status = 'in_review' AND (author_id IS NULL OR author_id <> $1)",
            )
            .bind(reviewer.0)
            .bind(note)
            .bind(now)
            .bind(id)
            .execute(p)
            .await
            .map(|r| r.rows_affected())
        })?;
        if done == 0 {
            return Err(self.refused(id, "reviewed by you").await);
        }
        self.warp_advisory_or_404(id).await
    }

    /// The organisations an advisory would reach if published now: every
    /// organisation whose users may sign in, or those of them whose
    /// inventory lists one of its products (found through the key index).
    pub async fn warp_audience(&self, draft: &WarpAdvisoryDraft) -> Result<Vec<AudienceOrg>> {
        if draft.audience == Audience::All {
            let rows: Vec<(i64, String)> = on_pool!(self, |p| {
                sqlx::query_as(concat!(
                    "SELECT id, name FROM organisations WHERE status IN ",
                    live_orgs!(),
                    " ORDER BY name, id"
                ))
                .fetch_all(p)
                .await
            })?;
            return Ok(rows
                .into_iter()
                .map(|(id, name)| AudienceOrg {
                    org_id: OrgId(id),
                    org_name: name,
                    products: Vec::new(),
                })
                .collect());
        }
        // key → the products (as written) it stands for.
        let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for p in &draft.products {
            for k in product_keys(p) {
                by_key.entry(k).or_default().push(p.to_string());
            }
        }
        if by_key.is_empty() {
            return Ok(Vec::new());
        }
        let key_list: Vec<String> = by_key.keys().cloned().collect();
        let mut found: BTreeMap<i64, (String, BTreeSet<String>)> = BTreeMap::new();
        for chunk in key_list.chunks(400) {
            let rows: Vec<(i64, String, String)> = on_pool!(self, |p| {
                let mut qb = sqlx::QueryBuilder::new(concat!(
                    "SELECT DISTINCT k.org_id, o.name, k.key FROM inventory_keys k \
                     JOIN organisations o ON o.id = k.org_id WHERE o.status IN ",
                    live_orgs!(),
                    " AND k.key"
                ));
                crate::exposures::push_in(&mut qb, chunk.iter().cloned());
                qb.build_query_as().fetch_all(p).await
            })?;
            for (org, name, key) in rows {
                let entry = found.entry(org).or_insert_with(|| (name, BTreeSet::new()));
                entry
                    .1
                    .extend(by_key.get(&key).into_iter().flatten().cloned());
            }
        }
        let mut out: Vec<AudienceOrg> = found
            .into_iter()
            .map(|(id, (name, products))| AudienceOrg {
                org_id: OrgId(id),
                org_name: name,
                products: products.into_iter().collect(),
            })
            .collect();
        out.sort_by(|a, b| a.org_name.cmp(&b.org_name).then(a.org_id.cmp(&b.org_id)));
        Ok(out)
    }

    /// Publish an advisory in review (by an operator other than its author)
    /// and, in the same transaction, raise one alert per audience
    /// organisation and queue its immediate deliveries. Publishing again
    /// is refused ([`StoreError::Conflict`]) and alerts nobody.
    pub async fn publish_warp_advisory(
        &self,
        id: i64,
        reviewer: UserId,
        now: DateTime<Utc>,
    ) -> Result<Published> {
        let advisory = self.warp_advisory_or_404(id).await?;
        if advisory.status != WarpStatus::InReview || advisory.author_id == Some(reviewer) {
            return Err(self.refused(id, "published by you").await);
        }
        let orgs = self.warp_audience(&advisory.draft).await?;
        let alerts: Vec<NewAlert> = orgs.iter().map(|o| alert_for(&advisory, o, now)).collect();
        let mut org_ids: Vec<i64> = orgs.iter().map(|o| o.org_id.0).collect();
        org_ids.sort_unstable();
        let audience = self.audience(&org_ids).await?;
        let counts: Option<(u64, u64)> = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            // Only if nothing changed since we read it: the alerts say what
            // was reviewed.
            let done = sqlx::query(
                "UPDATE warp_advisories SET status = 'published', reviewer_id = $1, published_at = $2, \
                 updated_at = $2 WHERE id = $3 AND status = 'in_review' AND updated_at = $4 \
                 AND (author_id IS NULL OR author_id <> $1)",
            )
            .bind(reviewer.0)
            .bind(now)
            .bind(id)
            .bind(advisory.updated_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done == 0 {
                None
            } else {
                let counts = tx.queue_alerts(&alerts, &audience, now).await?;
                tx.commit().await?;
                Some(counts)
            }
        });
        let Some((raised, queued)) = counts else {
            return Err(self.refused(id, "published by you").await);
        };
        Ok(Published {
            advisory: self.warp_advisory_or_404(id).await?,
            orgs: orgs.len(),
            alerts: raised,
            deliveries: queued,
        })
    }

    /// Withdraw a published advisory (any operator). Members who could read
    /// it still can, marked withdrawn.
    pub async fn withdraw_warp_advisory(
        &self,
        id: i64,
        now: DateTime<Utc>,
    ) -> Result<WarpAdvisory> {
        // Everyone it reached is told it is withdrawn, through the same
        // alerts and in the same transaction as the withdrawal.
        let advisory = self.warp_advisory_or_404(id).await?;
        let reached: Vec<(i64,)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT DISTINCT org_id FROM alerts WHERE warp_advisory_id = $1 \
                 AND dedup_key LIKE 'warp:%' ORDER BY org_id",
            )
            .bind(id)
            .fetch_all(p)
            .await
        })?;
        let orgs: Vec<i64> = reached.into_iter().map(|(o,)| o).collect();
        let notices: Vec<NewAlert> = orgs
            .iter()
            .map(|org| withdrawal_notice(&advisory, *org, now))
            .collect();
        let audience = self.audience(&orgs).await?;
        let done = on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let done = sqlx::query(
                "UPDATE warp_advisories SET status = 'withdrawn', updated_at = $1 \
                 WHERE id = $2 AND status = 'published'",
            )
            .bind(now)
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if done > 0 {
                tx.queue_alerts(&notices, &audience, now).await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(done)
        })?;
        if done == 0 {
            return Err(self.refused(id, "withdrawn").await);
        }
        self.warp_advisory_or_404(id).await
    }

    /// Whether the advisory was sent to `org` when it was published.
    pub async fn warp_advisory_reached(&self, id: i64, org: OrgId) -> Result<bool> {
        let row: Option<(i64,)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT id FROM alerts WHERE org_id = $1 AND warp_advisory_id = $2 LIMIT 1",
            )
            .bind(org.0)
            .bind(id)
            .fetch_optional(p)
            .await
        })?;
        Ok(row.is_some())
    }

    /// The organisations the advisory reached, by name, with their deliveries.
    pub async fn warp_advisory_reach(&self, id: i64) -> Result<Vec<WarpReach>> {
        let rows: Vec<(i64, String, i64, DateTime<Utc>, i64, i64)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT a.org_id, o.name, a.id, a.created_at, \
                 (SELECT COUNT(*) FROM deliveries d WHERE d.alert_id = a.id), \
                 (SELECT COUNT(*) FROM deliveries d WHERE d.alert_id = a.id AND d.status = 'sent') \
                 FROM alerts a JOIN organisations o ON o.id = a.org_id \
                 WHERE a.warp_advisory_id = $1 AND a.dedup_key LIKE 'warp:%' ORDER BY o.name, o.id",
            )
            .bind(id)
            .fetch_all(p)
            .await
        })?;
        Ok(rows
            .into_iter()
            .map(|(org, name, alert, at, deliveries, sent)| WarpReach {
                org_id: OrgId(org),
                org_name: name,
                alert_id: alert,
                alerted_at: at,
                deliveries,
                sent,
            })
            .collect())
    }
}

/// The alert one organisation receives for a published advisory.
fn alert_for(a: &WarpAdvisory, org: &AudienceOrg, now: DateTime<Utc>) -> NewAlert {
    let priority = a.priority();
    let mut sources: Vec<SourceLink> = a
        .draft
        .links
        .iter()
        .map(|l| SourceLink {
            label: l.label.clone(),
            url: l.url.clone(),
        })
        .collect();
    sources.extend(a.draft.cves.iter().map(|c| SourceLink {
        label: c.clone(),
        url: format!("/advisories/{c}"),
    }));
    NewAlert {
        org_id: org.org_id.0,
        kind: AlertKind::Warp,
        vuln_id: None,
        warp_advisory_id: Some(a.id),
        priority,
        tlp: a.draft.tlp,
        title: a.draft.title.clone(),
        content: AlertContent {
            summary: a.draft.summary.clone(),
            reason: reason(priority, a.draft.audience, &org.products),
            changes: Vec::new(),
            items: Vec::new(),
            action: Some(a.draft.action.clone()),
            due: Some(now.date_naive() + Duration::days(priority.response_days())),
            sources,
            path: format!("/warp-advisories/{}", a.id),
        },
        dedup_key: format!("warp:{}:{}", a.id, org.org_id.0),
    }
}

/// The notice that a published advisory has been withdrawn, for one
/// organisation it reached: same priority and label, so it reaches the same
/// people the same way.
fn withdrawal_notice(a: &WarpAdvisory, org: i64, now: DateTime<Utc>) -> NewAlert {
    NewAlert {
        org_id: org,
        kind: AlertKind::Warp,
        vuln_id: None,
        warp_advisory_id: Some(a.id),
        priority: a.priority(),
        tlp: a.draft.tlp,
        title: format!("Withdrawn: {}", a.draft.title),
        content: AlertContent {
            summary: format!(
                "The WARP's operators have withdrawn their advisory \"{}\": it no longer applies.",
                a.draft.title
            ),
            reason: "Sent to everyone who received the advisory.".into(),
            changes: vec![format!("Withdrawn on {}", now.format("%-d %B %Y"))],
            items: Vec::new(),
            action: Some("Disregard the advice it gave; nothing more is needed.".into()),
            due: None,
            sources: Vec::new(),
            path: format!("/warp-advisories/{}", a.id),
        },
        dedup_key: format!("warp-withdrawn:{}:{org}", a.id),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_become_the_keys_items_are_filed_under() {
        let keys = |raw: &str| -> Vec<String> {
            product_keys(&ProductRef::parse(raw).expect("product"))
                .into_iter()
                .collect()
        };
        assert_eq!(
            keys("Fortinet:FortiOS"),
            ["cpe:fortinet:fortios", "name:fortinet:fortios"]
        );
        assert_eq!(
            keys("cpe:2.3:a:apache:log4j:2.14.1:*:*:*:*:*:*:*"),
            ["cpe:apache:log4j", "name:apache:log4j"]
        );
        assert_eq!(
            keys("Microsoft:Exchange Server"),
            [
                "cpe:microsoft:exchange_server",
                "name:microsoft:exchange_server"
            ]
        );
        let purl = keys("pkg:maven/org.apache.logging.log4j/log4j-core@2.14.1");
        assert_eq!(purl.len(), 1);
        assert!(purl[0].starts_with("pkg:maven/"), "{purl:?}");
        // An item the text names meets the advisory's keys.
        let item = openwarp_matching::inventory::ItemFields {
            vendor: Some("Fortinet".into()),
            product: Some("FortiOS".into()),
            ..Default::default()
        };
        let item_keys = keys::item_keys(&item);
        assert!(
            product_keys(&ProductRef::parse("cpe:2.3:o:fortinet:fortios").expect("cpe"))
                .iter()
                .all(|k| item_keys.contains(k))
        );
    }

    #[test]
    fn the_reason_says_why_in_words() {
        assert_eq!(
            reason(Priority::P1, Audience::All, &[]),
            "P1 (fix now), set by the WARP's operators; sent to every member."
        );
        assert_eq!(
            reason(
                Priority::P2,
                Audience::Products,
                &["fortinet:fortios".into()]
            ),
            "P2 (fix within 14 days), set by the WARP's operators; sent to you because your inventory lists fortinet:fortios."
        );
    }
}

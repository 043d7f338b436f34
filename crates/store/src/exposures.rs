//! The matching engine's I/O shell, and exposures.
//!
//! Matching is incremental and index-driven:
//!
//! - when advisories change ([`Store::match_advisories`], called by every
//!   ingest), the pairs to assess come from joining the advisories' keys with
//!   inventory keys — never a scan of every item;
//! - when items change ([`Store::match_items`]), from joining the items' keys
//!   with advisory keys.
//!
//! Either way the pure matcher ([`openwarp_matching::matcher::assess`])
//! decides each pair, the priority rule ranks it, and the result is
//! reconciled with what is stored: one row per (item, vulnerability), written
//! only when its content digest changes, switched off (never deleted) when
//! it stops applying, each step recorded in the exposure's history.

use crate::advisories::{decode_json, encode_json};
use crate::alerts::{AlertContent, AlertItem, AlertKind, AlertTx, Audience, NewAlert, SourceLink};
use crate::inventory::{ItemRow, StoredItem, item_columns};
use crate::{Result, Store, StoreError, corrupt, on_pool};
use chrono::{DateTime, NaiveDate, Utc};
use openwarp_advisory::applicability::Estate;
use openwarp_advisory::cpe::Wfn;
use openwarp_advisory::model::{Affected, BoolOp, KevEntry, Severity, SourceKind, SourceRecord};
use openwarp_core::TlpLabel;
use openwarp_core::{OrgId, UserId};
use openwarp_matching::alert::{AlertState, changes as alert_changes};
use openwarp_matching::explain::{Facts, deadline, line};
use openwarp_matching::inventory::InventoryItem;
use openwarp_matching::keys::{cpe_key_of, statements_only};
use openwarp_matching::matcher::{Compiled, Finding, PreparedItem, Verdict, assess_compiled};
use openwarp_matching::priority::{Priority, Ranking, Signals, rank};
use openwarp_matching::status::ExposureStatus;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeSet, HashMap, HashSet};

/// IN-list size per statement.
const CHUNK: usize = 400;

/// Append ` IN ($1, $2, …)` binding `values`, for either backend.
pub(crate) fn push_in<DB, T>(qb: &mut sqlx::QueryBuilder<DB>, values: impl IntoIterator<Item = T>)
where
    DB: sqlx::Database,
    for<'t> T: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    qb.push(" IN (");
    let mut list = qb.separated(", ");
    for v in values {
        list.push_bind(v);
    }
    qb.push(")");
}

/// What a matching run changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct MatchCounts {
    /// Pairs the matcher assessed.
    pub assessed: u64,
    pub new: u64,
    pub changed: u64,
    /// Exposures that stopped applying (no longer matched, or cleared by VEX).
    pub cleared: u64,
    /// Alerts raised (one per organisation and vulnerability).
    pub alerts: u64,
    /// Immediate deliveries queued for them.
    pub deliveries: u64,
}

impl std::ops::AddAssign for MatchCounts {
    fn add_assign(&mut self, o: MatchCounts) {
        self.assessed += o.assessed;
        self.new += o.new;
        self.changed += o.changed;
        self.cleared += o.cleared;
        self.alerts += o.alerts;
        self.deliveries += o.deliveries;
    }
}

/// An exposure as members see it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Exposure {
    pub id: i64,
    pub org_id: i64,
    pub item_id: i64,
    pub item_name: String,
    pub item_version: Option<String>,
    pub item_owner: Option<String>,
    pub vuln_id: String,
    pub title: String,
    pub active: bool,
    pub verdict: String,
    pub priority: Priority,
    pub reasons: Vec<String>,
    /// The plain-English line.
    pub line: String,
    pub status: ExposureStatus,
    pub status_at: Option<DateTime<Utc>>,
    pub status_by: Option<String>,
    pub first_seen: DateTime<Utc>,
    pub changed_at: DateTime<Utc>,
    pub cvss_score: Option<f64>,
    pub severity: Option<String>,
    pub kev: bool,
    pub epss_percentile: Option<f64>,
    pub finding: Finding,
}

impl Exposure {
    /// "P1 because …".
    pub fn reason_sentence(&self) -> String {
        Ranking {
            priority: self.priority,
            reasons: self.reasons.clone(),
        }
        .sentence()
    }
}

/// One step in an exposure's history.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct ExposureEvent {
    pub at: DateTime<Utc>,
    pub kind: String,
    pub status: Option<String>,
    pub detail: String,
    /// Who did it (a person's name), or nobody for the matcher.
    pub by: Option<String>,
}

/// Which exposures to list.
#[derive(Debug, Clone, Default)]
pub struct ExposureFilter {
    pub priority: Option<Priority>,
    pub status: Option<ExposureStatus>,
    pub item_id: Option<i64>,
    /// Only exposures to this vulnerability (CVE or other id).
    pub vuln_id: Option<String>,
    /// Include exposures that no longer apply (cleared, no longer matching).
    pub include_inactive: bool,
}

/// The most exposures one read returns.
pub const MAX_EXPOSURES: i64 = 2000;

/// One page of an organisation's exposures.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExposurePage {
    pub rows: Vec<Exposure>,
    /// How many match the filter in all.
    pub total: i64,
}

/// How many members are exposed to one advisory (operators see the names).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AdvisoryExposure {
    pub org_id: i64,
    pub org_name: String,
    pub items: i64,
    pub top_priority: Priority,
}

#[derive(sqlx::FromRow)]
struct ExposureRow {
    id: i64,
    org_id: i64,
    item_id: i64,
    item_name: String,
    item_version: Option<String>,
    item_owner: Option<String>,
    vuln_id: String,
    title: Option<String>,
    active: bool,
    verdict: String,
    priority: i64,
    reasons: String,
    line: String,
    status: String,
    status_at: Option<DateTime<Utc>>,
    status_by: Option<String>,
    first_seen: DateTime<Utc>,
    changed_at: DateTime<Utc>,
    cvss_score: Option<f64>,
    severity: Option<String>,
    kev_date_added: Option<NaiveDate>,
    epss_percentile: Option<f64>,
    finding: String,
}

impl TryFrom<ExposureRow> for Exposure {
    type Error = StoreError;
    fn try_from(r: ExposureRow) -> Result<Exposure> {
        Ok(Exposure {
            id: r.id,
            org_id: r.org_id,
            item_id: r.item_id,
            item_name: r.item_name,
            item_version: r.item_version,
            item_owner: r.item_owner,
            title: r.title.unwrap_or_else(|| r.vuln_id.clone()),
            vuln_id: r.vuln_id,
            active: r.active,
            verdict: r.verdict,
            priority: Priority::from_rank(r.priority)
                .ok_or_else(|| corrupt(format!("priority {}", r.priority)))?,
            reasons: serde_json::from_str(&r.reasons).map_err(corrupt)?,
            line: r.line,
            status: ExposureStatus::parse(&r.status)
                .ok_or_else(|| corrupt(format!("status {}", r.status)))?,
            status_at: r.status_at,
            status_by: r.status_by,
            first_seen: r.first_seen,
            changed_at: r.changed_at,
            cvss_score: r.cvss_score,
            severity: r.severity,
            kev: r.kev_date_added.is_some(),
            epss_percentile: r.epss_percentile,
            finding: serde_json::from_str(&r.finding).map_err(corrupt)?,
        })
    }
}

macro_rules! exposure_select {
    () => {
        "SELECT x.id, x.org_id, x.item_id, i.name AS item_name, i.version AS item_version, \
     i.owner AS item_owner, x.vuln_id, a.title, x.active, x.verdict, x.priority, x.reasons, x.line, x.status, \
     x.status_at, u.display_name AS status_by, x.first_seen, x.changed_at, a.cvss_score, a.severity, \
     a.kev_date_added, e.percentile AS epss_percentile, x.finding \
     FROM exposures x JOIN inventory_items i ON i.id = x.item_id \
     LEFT JOIN advisories a ON a.vuln_id = x.vuln_id \
     LEFT JOIN epss_scores e ON e.cve_id = x.vuln_id \
     LEFT JOIN users u ON u.id = x.status_by"
    };
}

/// `WHERE` for an organisation's exposures under `f` (columns of `x` only,
/// so the count needs no join).
fn push_exposure_filter<DB: sqlx::Database>(
    qb: &mut sqlx::QueryBuilder<DB>,
    org: OrgId,
    f: &ExposureFilter,
) where
    for<'t> i64: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> bool: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> &'static str: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
    for<'t> String: sqlx::Encode<'t, DB> + sqlx::Type<DB>,
{
    qb.push(" WHERE x.org_id = ");
    qb.push_bind(org.0);
    if !f.include_inactive {
        qb.push(" AND x.active = ");
        qb.push_bind(true);
    }
    if let Some(pr) = f.priority {
        qb.push(" AND x.priority = ");
        qb.push_bind(i64::from(pr.rank()));
    }
    if let Some(s) = f.status {
        qb.push(" AND x.status = ");
        qb.push_bind(s.as_str());
    }
    if let Some(i) = f.item_id {
        qb.push(" AND x.item_id = ");
        qb.push_bind(i);
    }
    if let Some(v) = &f.vuln_id {
        qb.push(" AND x.vuln_id = ");
        qb.push_bind(v.clone());
    }
}

/// What the matcher needs to know about one vulnerability.
struct AdvisoryFacts {
    records: Vec<SourceRecord>,
    title: String,
    cvss: Option<f64>,
    severity: Option<Severity>,
    kev: Option<KevEntry>,
    epss_percentile: Option<f64>,
}

/// An existing exposure row, for reconciliation.
#[derive(sqlx::FromRow)]
struct Existing {
    id: i64,
    item_id: i64,
    vuln_id: String,
    active: bool,
    verdict: String,
    priority: i64,
    digest: String,
    first_seen: DateTime<Utc>,
    alert_state: Option<String>,
}

/// One exposure's news, before it is grouped into an alert.
struct Trigger {
    org_id: i64,
    vuln_id: String,
    exposure_id: i64,
    /// New to the member (else a follow-up with `changes`).
    new: bool,
    changes: Vec<String>,
    item: String,
    owner: Option<String>,
    line: String,
    reason: String,
    remedy: Option<String>,
    /// Fix by (the priority's response time, or CISA's deadline if sooner).
    due: NaiveDate,
    state: AlertState,
}

/// Where each source's own page for a record is.
fn source_link(source: SourceKind, record_id: &str) -> Option<SourceLink> {
    let (label, url) = match source {
        SourceKind::Nvd => (
            format!("NVD {record_id}"),
            format!("https://nvd.nist.gov/vuln/detail/{record_id}"),
        ),
        SourceKind::Cve5 => (
            format!("CVE record {record_id}"),
            format!("https://www.cve.org/CVERecord?id={record_id}"),
        ),
        SourceKind::Kev => (
            "CISA Known Exploited Vulnerabilities catalogue".to_string(),
            "https://www.cisa.gov/known-exploited-vulnerabilities-catalog".to_string(),
        ),
        SourceKind::Osv => (
            format!("OSV {record_id}"),
            format!("https://osv.dev/vulnerability/{record_id}"),
        ),
        SourceKind::Csaf | SourceKind::Epss => return None,
    };
    Some(SourceLink { label, url })
}

/// Group triggers into one alert per organisation and vulnerability.
fn alerts_from_triggers(
    triggers: Vec<Trigger>,
    facts: &HashMap<String, AdvisoryFacts>,
) -> Vec<NewAlert> {
    let mut groups: std::collections::BTreeMap<(i64, String), Vec<Trigger>> =
        std::collections::BTreeMap::new();
    for t in triggers {
        groups
            .entry((t.org_id, t.vuln_id.clone()))
            .or_default()
            .push(t);
    }
    let mut out = Vec::new();
    for ((org_id, vuln), mut ts) in groups {
        ts.sort_by_key(|t| (t.state.priority, t.exposure_id));
        let Some(top) = ts.first() else { continue };
        let f = facts.get(&vuln);
        let new = ts.iter().any(|t| t.new);
        let mut changes: Vec<String> = Vec::new();
        for t in &ts {
            for c in &t.changes {
                if !changes.contains(c) {
                    changes.push(c.clone());
                }
            }
        }
        let mut key_material: Vec<String> = ts
            .iter()
            .map(|t| {
                format!(
                    "{}:{}:{}",
                    t.exposure_id,
                    t.new,
                    serde_json::to_string(&t.state).unwrap_or_default()
                )
            })
            .collect();
        key_material.sort();
        let hash: String = Sha256::digest(key_material.join("|").as_bytes())
            .iter()
            .take(12)
            .map(|b| format!("{b:02x}"))
            .collect();
        let kind = if new {
            AlertKind::New
        } else {
            AlertKind::Update
        };
        let tlp = f
            .into_iter()
            .flat_map(|f| &f.records)
            .filter_map(|r| r.tlp)
            .filter_map(|t| {
                let name = serde_json::to_value(t).ok()?;
                TlpLabel::parse(name.as_str()?)
            })
            .max()
            .unwrap_or(TlpLabel::Clear);
        let mut sources = vec![SourceLink {
            label: format!("Every source on {vuln} in openwarp"),
            url: format!("/advisories/{vuln}"),
        }];
        let mut seen_sources = HashSet::new();
        for r in f.into_iter().flat_map(|f| &f.records) {
            if let Some(l) = source_link(r.source, &r.record_id)
                && seen_sources.insert(l.url.clone())
            {
                sources.push(l);
            }
        }
        let kev = f.and_then(|f| f.kev.as_ref());
        let remedy = ts.iter().find_map(|t| t.remedy.as_deref()).map(|r| {
            let mut c = r.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        });
        // The concrete fix first ("Update to version 7.2.7 or later"); CISA's
        // generic required action when no source names one.
        let action = remedy.or_else(|| {
            kev.map(|k| k.required_action.clone())
                .filter(|a| !a.trim().is_empty())
        });
        let title = f.map_or_else(|| vuln.clone(), |f| f.title.clone());
        out.push(NewAlert {
            org_id,
            kind,
            vuln_id: Some(vuln.clone()),
            warp_advisory_id: None,
            priority: top.state.priority,
            tlp,
            title: if title == vuln {
                vuln.clone()
            } else {
                format!("{vuln}: {title}")
            },
            content: AlertContent {
                summary: top.line.clone(),
                reason: top.reason.clone(),
                changes,
                items: ts
                    .iter()
                    .map(|t| AlertItem {
                        exposure_id: t.exposure_id,
                        item: t.item.clone(),
                        owner: t.owner.clone(),
                        line: t.line.clone(),
                        reason: t.reason.clone(),
                        priority: t.state.priority,
                    })
                    .collect(),
                action,
                due: ts.iter().map(|t| t.due).min(),
                sources,
                path: format!("/orgs/{org_id}/exposure/{}", top.exposure_id),
            },
            dedup_key: format!("{}:{org_id}:{vuln}:{hash}", kind.as_str()),
        });
    }
    out
}

fn digest(f: &Finding, ranking: &Ranking, line: &str) -> String {
    let json = serde_json::to_string(&(f, ranking, line)).unwrap_or_default();
    let d = Sha256::digest(json.as_bytes());
    d.iter().take(12).map(|b| format!("{b:02x}")).collect()
}

impl Store {
    /// Match changed advisories against every inventory sharing a key with them.
    /// Raises alerts for what is new or changed (unless the store is
    /// [`Store::without_alerts`]).
    pub async fn match_advisories(
        &self,
        vuln_ids: &[String],
        now: DateTime<Utc>,
    ) -> Result<MatchCounts> {
        self.match_advisories_with(vuln_ids, now, self.alerting)
            .await
    }

    async fn match_advisories_with(
        &self,
        vuln_ids: &[String],
        now: DateTime<Utc>,
        alerting: bool,
    ) -> Result<MatchCounts> {
        let mut counts = MatchCounts::default();
        for chunk in vuln_ids.chunks(CHUNK) {
            let pairs: Vec<(String, i64)> = on_pool!(self, |p| {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT DISTINCT ak.vuln_id, ik.item_id FROM advisory_keys ak \
                     JOIN inventory_keys ik ON ik.key = ak.key WHERE ak.vuln_id",
                );
                push_in(&mut qb, chunk.iter().cloned());
                qb.build_query_as().fetch_all(p).await
            })?;
            let existing: Vec<Existing> = on_pool!(self, |p| {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT id, item_id, vuln_id, active, verdict, priority, digest, first_seen, alert_state \
                     FROM exposures WHERE vuln_id",
                );
                push_in(&mut qb, chunk.iter().cloned());
                qb.build_query_as().fetch_all(p).await
            })?;
            if pairs.is_empty() && existing.is_empty() {
                continue;
            }
            counts += self.reconcile(pairs, existing, now, alerting).await?;
        }
        Ok(counts)
    }

    /// These vulnerabilities have been matched: no longer owed a match.
    pub(crate) async fn matched(&self, vuln_ids: &[String]) -> Result<()> {
        for chunk in vuln_ids.chunks(CHUNK) {
            on_pool!(self, |p| {
                let mut qb = sqlx::QueryBuilder::new("DELETE FROM match_pending WHERE vuln_id");
                push_in(&mut qb, chunk.iter().cloned());
                qb.build().execute(p).await.map(|_| ())
            })?;
        }
        Ok(())
    }

    /// Finish matching that an interrupted ingest owed (stored, but the
    /// process stopped before matching committed), raising the alerts it
    /// would have raised. Called on start; cheap when nothing is owed.
    /// Returns how many vulnerabilities were matched.
    pub async fn resume_matching(&self, now: DateTime<Utc>) -> Result<(usize, MatchCounts)> {
        let owed: Vec<(String, bool)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT vuln_id, alerting FROM match_pending ORDER BY vuln_id")
                .fetch_all(p)
                .await
        })?;
        let mut counts = MatchCounts::default();
        for alerting in [true, false] {
            let vulns: Vec<String> = owed
                .iter()
                .filter(|(_, a)| *a == alerting)
                .map(|(v, _)| v.clone())
                .collect();
            if vulns.is_empty() {
                continue;
            }
            counts += self.match_advisories_with(&vulns, now, alerting).await?;
            self.matched(&vulns).await?;
        }
        Ok((owed.len(), counts))
    }

    /// Match changed items of `org` against the corpus. This records the
    /// member's baseline without alerting: the member changed the inventory
    /// and sees the result on screen; alerts are for news.
    pub async fn match_items(
        &self,
        org: OrgId,
        item_ids: &[i64],
        now: DateTime<Utc>,
    ) -> Result<MatchCounts> {
        let mut counts = MatchCounts::default();
        for chunk in item_ids.chunks(CHUNK) {
            let pairs: Vec<(String, i64)> = on_pool!(self, |p| {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT DISTINCT ak.vuln_id, ik.item_id FROM inventory_keys ik \
                     JOIN advisory_keys ak ON ak.key = ik.key WHERE ik.org_id = ",
                );
                qb.push_bind(org.0);
                qb.push(" AND ik.item_id");
                push_in(&mut qb, chunk.iter().copied());
                qb.build_query_as().fetch_all(p).await
            })?;
            let existing: Vec<Existing> = on_pool!(self, |p| {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT id, item_id, vuln_id, active, verdict, priority, digest, first_seen, alert_state \
                     FROM exposures WHERE org_id = ",
                );
                qb.push_bind(org.0);
                qb.push(" AND item_id");
                push_in(&mut qb, chunk.iter().copied());
                qb.build_query_as().fetch_all(p).await
            })?;
            counts += self.reconcile(pairs, existing, now, false).await?;
        }
        Ok(counts)
    }

    /// Re-match every inventory against the whole corpus (after an upgrade
    /// of the matcher, say). Incremental matching makes this unnecessary in
    /// normal running. Goes advisory by advisory, so each advisory's
    /// statements are read once however many members run what it names.
    /// Records without alerting, like [`Store::match_items`].
    pub async fn rematch_all(&self, now: DateTime<Utc>) -> Result<MatchCounts> {
        let vulns: Vec<(String,)> = on_pool!(self, |p| {
            sqlx::query_as(
            "SELECT DISTINCT ak.vuln_id FROM advisory_keys ak JOIN inventory_keys ik ON ik.key = ak.key \
             UNION SELECT DISTINCT vuln_id FROM exposures ORDER BY 1"
        )
        .fetch_all(p)
        .await
        })?;
        let vulns: Vec<String> = vulns.into_iter().map(|(v,)| v).collect();
        self.match_advisories_with(&vulns, now, false).await
    }

    /// Re-prioritise the exposures to these vulnerabilities (e.g. after new
    /// EPSS scores). Only vulnerabilities someone is exposed to are touched.
    pub async fn rerank(&self, vuln_ids: &[String], now: DateTime<Utc>) -> Result<MatchCounts> {
        let mut exposed = Vec::new();
        for chunk in vuln_ids.chunks(CHUNK) {
            let rows: Vec<(String,)> = on_pool!(self, |p| {
                let mut qb =
                    sqlx::QueryBuilder::new("SELECT DISTINCT vuln_id FROM exposures WHERE vuln_id");
                push_in(&mut qb, chunk.iter().cloned());
                qb.build_query_as().fetch_all(p).await
            })?;
            exposed.extend(rows.into_iter().map(|(v,)| v));
        }
        self.match_advisories(&exposed, now).await
    }

    async fn load_facts(&self, vulns: &[String]) -> Result<HashMap<String, AdvisoryFacts>> {
        let mut out = HashMap::new();
        for chunk in vulns.chunks(CHUNK) {
            #[allow(clippy::type_complexity)]
            let rows: Vec<(
                String,
                Option<Vec<u8>>,
                Option<String>,
                Option<f64>,
                Option<String>,
                Option<f64>,
            )> = on_pool!(self, |p| {
                let mut qb = sqlx::QueryBuilder::new(
                    "SELECT s.vuln_id, s.body, a.title, a.cvss_score, a.severity, e.percentile \
                     FROM advisory_statements s LEFT JOIN advisories a ON a.vuln_id = s.vuln_id \
                     LEFT JOIN epss_scores e ON e.cve_id = s.vuln_id WHERE s.vuln_id",
                );
                push_in(&mut qb, chunk.iter().cloned());
                qb.build_query_as().fetch_all(p).await
            })?;
            for (vuln, body, title, cvss, severity, epss) in rows {
                let records: Vec<SourceRecord> = match body {
                    Some(b) => decode_json(&b)?,
                    None => Vec::new(),
                };
                let kev = records.iter().find_map(|r| r.kev.clone());
                out.insert(
                    vuln.clone(),
                    AdvisoryFacts {
                        records,
                        title: title.unwrap_or_else(|| vuln.clone()),
                        cvss,
                        severity: severity.as_deref().and_then(Severity::parse),
                        kev,
                        epss_percentile: epss,
                    },
                );
            }
        }
        Ok(out)
    }

    async fn load_items(&self, ids: &[i64]) -> Result<HashMap<i64, StoredItem>> {
        let mut out = HashMap::new();
        for chunk in ids.chunks(CHUNK) {
            let rows: Vec<ItemRow> = on_pool!(self, |p| {
                let mut qb = sqlx::QueryBuilder::new(concat!(
                    "SELECT ",
                    item_columns!(),
                    " FROM inventory_items WHERE id"
                ));
                push_in(&mut qb, chunk.iter().copied());
                qb.build_query_as().fetch_all(p).await
            })?;
            out.extend(rows.into_iter().map(|r| (r.id, StoredItem::from(r))));
        }
        Ok(out)
    }

    /// The CPE names of each organisation's items that could be platforms in
    /// these advisories' NVD configurations (found through the index too).
    async fn estates(
        &self,
        facts: &HashMap<String, AdvisoryFacts>,
        orgs: &BTreeSet<i64>,
    ) -> Result<HashMap<i64, Estate>> {
        let platform_keys: BTreeSet<String> = facts
            .values()
            .flat_map(|f| &f.records)
            .flat_map(|r| &r.affected)
            .filter_map(|a| match a {
                Affected::Nvd(c) => Some(c),
                _ => None,
            })
            // Only configurations with AND or negation look past the item
            // itself; any criteria in them may be met by another item.
            .filter(|c| {
                c.operator == Some(BoolOp::And)
                    || c.negate
                    || c.nodes
                        .iter()
                        .any(|n| n.operator == BoolOp::And || n.negate)
            })
            .flat_map(|c| c.nodes.iter().flat_map(|n| &n.cpe_match))
            .filter_map(|m| cpe_key_of(&m.criteria))
            .collect();
        if platform_keys.is_empty() || orgs.is_empty() {
            return Ok(HashMap::new());
        }
        let keys: Vec<String> = platform_keys.into_iter().collect();
        let orgs: Vec<i64> = orgs.iter().copied().collect();
        let mut ids = BTreeSet::new();
        for kchunk in keys.chunks(CHUNK / 2) {
            for ochunk in orgs.chunks(CHUNK / 2) {
                let rows: Vec<(i64,)> = on_pool!(self, |p| {
                    let mut qb = sqlx::QueryBuilder::new(
                        "SELECT DISTINCT item_id FROM inventory_keys WHERE key",
                    );
                    push_in(&mut qb, kchunk.iter().cloned());
                    qb.push(" AND org_id");
                    push_in(&mut qb, ochunk.iter().copied());
                    qb.build_query_as().fetch_all(p).await
                })?;
                ids.extend(rows.into_iter().map(|(i,)| i));
            }
        }
        let ids: Vec<i64> = ids.into_iter().collect();
        let items = self.load_items(&ids).await?;
        let mut names: HashMap<i64, Vec<Wfn>> = HashMap::new();
        for s in items.values() {
            if let Some(w) = PreparedItem::new(&s.item).wfn() {
                names.entry(s.item.org_id).or_default().push(w.clone());
            }
        }
        Ok(names
            .into_iter()
            .map(|(org, n)| (org, Estate::new(n)))
            .collect())
    }

    /// Assess `pairs`, and bring the stored `existing` exposures (the rows in
    /// scope) into line with the result.
    async fn reconcile(
        &self,
        pairs: Vec<(String, i64)>,
        existing: Vec<Existing>,
        now: DateTime<Utc>,
        alerting: bool,
    ) -> Result<MatchCounts> {
        let mut counts = MatchCounts::default();
        let vulns: Vec<String> = pairs
            .iter()
            .map(|(v, _)| v.clone())
            .chain(existing.iter().map(|e| e.vuln_id.clone()))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let item_ids: Vec<i64> = pairs
            .iter()
            .map(|(_, i)| *i)
            .chain(existing.iter().map(|e| e.item_id))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let facts = self.load_facts(&vulns).await?;
        let items = self.load_items(&item_ids).await?;
        let orgs: BTreeSet<i64> = items.values().map(|s| s.item.org_id).collect();
        let estates = self.estates(&facts, &orgs).await?;
        let no_estate = Estate::default();

        // Assess every candidate pair.
        #[allow(clippy::type_complexity)]
        let mut results: HashMap<(i64, String), (Finding, Ranking, String, AlertState)> =
            HashMap::new();
        let mut first_seen: HashMap<(i64, String), DateTime<Utc>> = existing
            .iter()
            .map(|e| ((e.item_id, e.vuln_id.clone()), e.first_seen))
            .collect();
        let mut prepared: HashMap<i64, PreparedItem> = HashMap::new();
        let mut compiled: HashMap<&str, Compiled> = HashMap::new();
        for (vuln, item_id) in &pairs {
            let (Some(f), Some(stored)) = (facts.get(vuln), items.get(item_id)) else {
                continue;
            };
            let item: &InventoryItem = &stored.item;
            let p = prepared
                .entry(*item_id)
                .or_insert_with(|| PreparedItem::new(item));
            let estate = estates.get(&item.org_id).unwrap_or(&no_estate);
            counts.assessed += 1;
            let advisory = compiled
                .entry(vuln.as_str())
                .or_insert_with(|| Compiled::new(&f.records));
            let Some(finding) = assess_compiled(advisory, p, estate) else {
                continue;
            };
            let signals = Signals {
                cvss: f.cvss,
                severity: f.severity,
                exploited: f.kev.is_some(),
                ransomware: f.kev.as_ref().is_some_and(|k| {
                    k.known_ransomware_campaign_use
                        .eq_ignore_ascii_case("known")
                }),
                epss_percentile: f.epss_percentile,
                internet_facing: item.fields.internet_facing,
                business_critical: item.fields.business_critical,
            };
            let ranking = rank(&signals, finding.verdict);
            let seen = *first_seen.entry((*item_id, vuln.clone())).or_insert(now);
            let label = item.fields.label();
            let text = line(
                &Facts {
                    vuln_id: vuln,
                    title: &f.title,
                    item: &label,
                    owner: item.fields.owner.as_deref(),
                    severity: signals.severity,
                    cvss: f.cvss,
                    exploited: signals.exploited,
                    required_action: f.kev.as_ref().map(|k| k.required_action.as_str()),
                    first_seen: seen.date_naive(),
                    kev_due: f.kev.as_ref().and_then(|k| k.due_date),
                },
                &finding,
                &ranking,
            );
            let state = AlertState {
                priority: ranking.priority,
                exploited: signals.exploited,
                fix_available: finding.remedy.is_some(),
                cvss: f.cvss,
            };
            results.insert((*item_id, vuln.clone()), (finding, ranking, text, state));
        }

        // Who hears of what this run raises (only organisations where
        // something may be news).
        let audience = if alerting {
            let orgs: BTreeSet<i64> = results
                .iter()
                .filter(|(_, (f, _, _, _))| f.verdict != Verdict::NotAffected)
                .filter_map(|((item_id, _), _)| items.get(item_id).map(|s| s.item.org_id))
                .collect();
            let orgs: Vec<i64> = orgs.into_iter().collect();
            self.audience(&orgs).await?
        } else {
            Audience::default()
        };
        let mut triggers: Vec<Trigger> = Vec::new();

        // Reconcile with what is stored.
        let by_pair: HashMap<(i64, String), &Existing> = existing
            .iter()
            .map(|e| ((e.item_id, e.vuln_id.clone()), e))
            .collect();
        let mut seen_pairs: HashSet<(i64, String)> = HashSet::new();
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            for ((item_id, vuln), (finding, ranking, text, state)) in &results {
                seen_pairs.insert((*item_id, vuln.clone()));
                let Some(stored) = items.get(item_id) else {
                    continue;
                };
                let d = digest(finding, ranking, text);
                let state_json = serde_json::to_string(state).map_err(corrupt)?;
                let trigger = |exposure_id: i64, new: bool, changes: Vec<String>| Trigger {
                    org_id: stored.item.org_id,
                    vuln_id: vuln.clone(),
                    exposure_id,
                    new,
                    changes,
                    item: stored.item.fields.label(),
                    owner: stored.item.fields.owner.clone(),
                    line: text.clone(),
                    reason: ranking.sentence(),
                    remedy: finding.remedy.clone(),
                    due: deadline(
                        first_seen
                            .get(&(*item_id, vuln.clone()))
                            .map_or(now, |d| *d)
                            .date_naive(),
                        ranking.priority,
                        facts
                            .get(vuln)
                            .and_then(|f| f.kev.as_ref())
                            .and_then(|k| k.due_date),
                    ),
                    state: *state,
                };
                let active = finding.verdict != Verdict::NotAffected;
                let finding_json = serde_json::to_string(finding).map_err(corrupt)?;
                let reasons = serde_json::to_string(&ranking.reasons).map_err(corrupt)?;
                match by_pair.get(&(*item_id, vuln.clone())) {
                    None => {
                        let id: Option<(i64,)> = sqlx::query_as(
                            "INSERT INTO exposures (org_id, item_id, vuln_id, active, verdict, priority, reasons, line, \
                             finding, digest, status, first_seen, changed_at, alert_state) \
                             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'new', $11, $11, $12) \
                             ON CONFLICT (item_id, vuln_id) DO NOTHING RETURNING id",
                        )
                        .bind(stored.item.org_id)
                        .bind(item_id)
                        .bind(vuln)
                        .bind(active)
                        .bind(finding.verdict.as_str())
                        .bind(i64::from(ranking.priority.rank()))
                        .bind(&reasons)
                        .bind(text)
                        .bind(&finding_json)
                        .bind(&d)
                        .bind(now)
                        .bind(&state_json)
                        .fetch_optional(&mut *tx)
                        .await?;
                        if let Some((id,)) = id {
                            counts.new += 1;
                            if alerting && active {
                                triggers.push(trigger(id, true, Vec::new()));
                            }
                            let detail = format!("Found: {}", ranking.sentence());
                            let kind = if active { "found" } else { "cleared" };
                            sqlx::query(
                                "INSERT INTO exposure_events (exposure_id, at, kind, detail) VALUES ($1, $2, $3, $4)",
                            )
                            .bind(id)
                            .bind(now)
                            .bind(kind)
                            .bind(detail)
                            .execute(&mut *tx)
                            .await?;
                        }
                    }
                    Some(e) if e.digest != d => {
                        // What the member has been told, merged with now
                        // (the most urgent told is kept; see AlertState::merge).
                        let old_state: Option<AlertState> = e
                            .alert_state
                            .as_deref()
                            .and_then(|j| serde_json::from_str(j).ok());
                        let stored_state = if active {
                            let merged = old_state.map_or(*state, |o| o.merge(state));
                            Some(serde_json::to_string(&merged).map_err(corrupt)?)
                        } else {
                            e.alert_state.clone()
                        };
                        sqlx::query(
                            "UPDATE exposures SET active = $1, verdict = $2, priority = $3, reasons = $4, line = $5, \
                             finding = $6, digest = $7, changed_at = $8, alert_state = $10 WHERE id = $9",
                        )
                        .bind(active)
                        .bind(finding.verdict.as_str())
                        .bind(i64::from(ranking.priority.rank()))
                        .bind(&reasons)
                        .bind(text)
                        .bind(&finding_json)
                        .bind(&d)
                        .bind(now)
                        .bind(e.id)
                        .bind(stored_state.as_ref())
                        .execute(&mut *tx)
                        .await?;
                        if alerting && active {
                            if !e.active {
                                match &old_state {
                                    None => triggers.push(trigger(e.id, true, Vec::new())),
                                    Some(o) => {
                                        let c = alert_changes(o, state);
                                        if !c.is_empty() {
                                            triggers.push(trigger(
                                                e.id,
                                                true,
                                                c.iter().map(ToString::to_string).collect(),
                                            ));
                                        }
                                    }
                                }
                            } else if let Some(o) = old_state {
                                let c = alert_changes(&o, state);
                                if !c.is_empty() {
                                    triggers.push(trigger(
                                        e.id,
                                        false,
                                        c.iter().map(ToString::to_string).collect(),
                                    ));
                                }
                            }
                        }
                        let old_priority = Priority::from_rank(e.priority);
                        let (kind, detail) = if !active && e.active {
                            counts.cleared += 1;
                            (
                                "cleared",
                                "The vendor says this version is not affected (VEX)".to_string(),
                            )
                        } else if active && !e.active {
                            counts.new += 1;
                            ("found", format!("Applies again: {}", ranking.sentence()))
                        } else if old_priority != Some(ranking.priority) {
                            counts.changed += 1;
                            (
                                "changed",
                                format!(
                                    "Priority {} → {}: {}",
                                    old_priority.map_or("?", Priority::as_str),
                                    ranking.priority,
                                    ranking.sentence()
                                ),
                            )
                        } else if e.verdict != finding.verdict.as_str() {
                            counts.changed += 1;
                            (
                                "changed",
                                format!("Now {}", finding.verdict.as_str().replace('_', " ")),
                            )
                        } else {
                            counts.changed += 1;
                            ("changed", "The advisory's details changed".to_string())
                        };
                        sqlx::query(
                            "INSERT INTO exposure_events (exposure_id, at, kind, detail) VALUES ($1, $2, $3, $4)",
                        )
                        .bind(e.id)
                        .bind(now)
                        .bind(kind)
                        .bind(detail)
                        .execute(&mut *tx)
                        .await?;
                    }
                    Some(_) => {}
                }
            }
            // Stored exposures in scope that no longer match.
            for e in &existing {
                if !e.active || seen_pairs.contains(&(e.item_id, e.vuln_id.clone())) {
                    continue;
                }
                counts.cleared += 1;
                sqlx::query(
                    "UPDATE exposures SET active = $1, verdict = 'no_longer_matches', digest = '', changed_at = $2 WHERE id = $3",
                )
                .bind(false)
                .bind(now)
                .bind(e.id)
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "INSERT INTO exposure_events (exposure_id, at, kind, detail) VALUES ($1, $2, 'cleared', $3)",
                )
                .bind(e.id)
                .bind(now)
                .bind("No longer matches: the advisory or the item changed")
                .execute(&mut *tx)
                .await?;
            }
            let alerts = alerts_from_triggers(std::mem::take(&mut triggers), &facts);
            let (raised, queued) = tx.queue_alerts(&alerts, &audience, now).await?;
            counts.alerts += raised;
            counts.deliveries += queued;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        Ok(counts)
    }

    /// `org`'s exposures, most urgent first (at most [`MAX_EXPOSURES`]).
    pub async fn list_exposures(&self, org: OrgId, f: &ExposureFilter) -> Result<Vec<Exposure>> {
        self.exposure_rows(org, f, MAX_EXPOSURES, 0).await
    }

    /// How many open exposures (new, assessing, action in progress; still
    /// applying) each of `org`'s items has; items with none are absent.
    /// Counted in SQL: nothing is read but the counts.
    pub async fn open_exposure_counts(&self, org: OrgId) -> Result<HashMap<i64, i64>> {
        let rows: Vec<(i64, i64)> = on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new(
                "SELECT x.item_id, COUNT(*) FROM exposures x WHERE x.org_id = ",
            );
            qb.push_bind(org.0);
            qb.push(" AND x.active = ");
            qb.push_bind(true);
            qb.push(" AND x.status IN (");
            let mut sep = qb.separated(", ");
            for s in ExposureStatus::ALL.into_iter().filter(|s| s.is_open()) {
                sep.push_bind(s.as_str());
            }
            qb.push(") GROUP BY x.item_id");
            qb.build_query_as().fetch_all(p).await
        })?;
        Ok(rows.into_iter().collect())
    }

    /// One page of `org`'s exposures, most urgent first, and how many match
    /// `f` in all: only the page's rows (and their findings) are read. As
    /// with advisories, the count is skipped when the page shows the end.
    pub async fn list_exposures_page(
        &self,
        org: OrgId,
        f: &ExposureFilter,
        limit: i64,
        offset: i64,
    ) -> Result<ExposurePage> {
        let limit = limit.clamp(1, MAX_EXPOSURES);
        let offset = offset.max(0);
        let rows = self.exposure_rows(org, f, limit, offset).await?;
        let last_page = (rows.len() as i64) < limit && (!rows.is_empty() || offset == 0);
        let total = if last_page {
            offset + rows.len() as i64
        } else {
            let (total,): (i64,) = on_pool!(self, |p| {
                let mut qb = sqlx::QueryBuilder::new("SELECT COUNT(*) FROM exposures x");
                push_exposure_filter(&mut qb, org, f);
                qb.build_query_as().fetch_one(p).await
            })?;
            total
        };
        Ok(ExposurePage { rows, total })
    }

    async fn exposure_rows(
        &self,
        org: OrgId,
        f: &ExposureFilter,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Exposure>> {
        let rows: Vec<ExposureRow> = on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new(exposure_select!());
            push_exposure_filter(&mut qb, org, f);
            qb.push(
                " ORDER BY x.active DESC, x.priority, a.kev_date_added IS NULL, a.cvss_score DESC NULLS LAST, \
                 x.first_seen DESC, x.id DESC LIMIT ",
            );
            qb.push_bind(limit);
            qb.push(" OFFSET ");
            qb.push_bind(offset);
            qb.build_query_as().fetch_all(p).await
        })?;
        rows.into_iter().map(Exposure::try_from).collect()
    }

    /// The `limit` most urgent open exposures of `org` (new, assessing or
    /// action in progress), in [`Store::list_exposures`]' order. For the
    /// dashboard, which shows a few: the filter and the limit are in the SQL,
    /// so the other exposures' findings are neither read nor decoded.
    pub async fn top_open_exposures(&self, org: OrgId, limit: i64) -> Result<Vec<Exposure>> {
        let rows: Vec<ExposureRow> = on_pool!(self, |p| sqlx::query_as(concat!(
            exposure_select!(),
            " WHERE x.org_id = $1 AND x.active = $2 \
              AND x.status IN ('new', 'assessing', 'action_in_progress') \
              ORDER BY x.priority, a.kev_date_added IS NULL, a.cvss_score DESC NULLS LAST, \
              x.first_seen DESC, x.id DESC LIMIT $3"
        ))
        .bind(org.0)
        .bind(true)
        .bind(limit)
        .fetch_all(p)
        .await)?;
        rows.into_iter().map(Exposure::try_from).collect()
    }

    /// One exposure of `org`, with its history (newest first).
    pub async fn exposure(
        &self,
        org: OrgId,
        id: i64,
    ) -> Result<Option<(Exposure, Vec<ExposureEvent>)>> {
        let row: Option<ExposureRow> = on_pool!(self, |p| sqlx::query_as(concat!(
            exposure_select!(),
            " WHERE x.id = $1 AND x.org_id = $2"
        ))
        .bind(id)
        .bind(org.0)
        .fetch_optional(p)
        .await)?;
        let Some(row) = row else { return Ok(None) };
        let events: Vec<ExposureEvent> = on_pool!(self, |p| sqlx::query_as(
            "SELECT ev.at, ev.kind, ev.status, ev.detail, u.display_name AS by \
             FROM exposure_events ev LEFT JOIN users u ON u.id = ev.user_id \
             WHERE ev.exposure_id = $1 ORDER BY ev.at DESC, ev.id DESC"
        )
        .bind(id)
        .fetch_all(p)
        .await)?;
        Ok(Some((Exposure::try_from(row)?, events)))
    }

    /// Record a member's decision on an exposure, with an optional note.
    pub async fn set_exposure_status(
        &self,
        org: OrgId,
        id: i64,
        status: ExposureStatus,
        note: Option<&str>,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let n = sqlx::query(
                "UPDATE exposures SET status = $1, status_by = $2, status_at = $3 WHERE id = $4 AND org_id = $5",
            )
            .bind(status.as_str())
            .bind(by.0)
            .bind(now)
            .bind(id)
            .bind(org.0)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n == 0 {
                return Err(StoreError::NotFound("exposure"));
            }
            let detail = match note.map(str::trim).filter(|n| !n.is_empty()) {
                Some(n) => format!("{}: {n}", status.label()),
                None => status.label().to_string(),
            };
            sqlx::query(
                "INSERT INTO exposure_events (exposure_id, at, user_id, kind, status, detail) VALUES ($1, $2, $3, 'status', $4, $5)",
            )
            .bind(id)
            .bind(now)
            .bind(by.0)
            .bind(status.as_str())
            .bind(detail)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })
    }

    /// Active exposure counts per priority for `org` (P1..P4), open ones only.
    pub async fn exposure_counts(&self, org: OrgId) -> Result<[i64; 4]> {
        let rows: Vec<(i64, i64)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT priority, COUNT(*) FROM exposures WHERE org_id = $1 AND active = $2 \
             AND status IN ('new', 'assessing', 'action_in_progress') GROUP BY priority"
        )
        .bind(org.0)
        .bind(true)
        .fetch_all(p)
        .await)?;
        let mut out = [0; 4];
        for (p, n) in rows {
            if let Some(slot) = usize::try_from(p - 1).ok().and_then(|i| out.get_mut(i)) {
                *slot = n;
            }
        }
        Ok(out)
    }

    /// Which members are exposed to a vulnerability (active exposures only).
    /// Callers show members only the count.
    pub async fn advisory_exposure(&self, vuln_id: &str) -> Result<Vec<AdvisoryExposure>> {
        let rows: Vec<(i64, String, i64, i64)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT x.org_id, o.name, COUNT(*), MIN(x.priority) FROM exposures x \
             JOIN organisations o ON o.id = x.org_id WHERE x.vuln_id = $1 AND x.active = $2 \
             GROUP BY x.org_id, o.name ORDER BY MIN(x.priority), o.name"
        )
        .bind(vuln_id)
        .bind(true)
        .fetch_all(p)
        .await)?;
        Ok(rows
            .into_iter()
            .map(|(org_id, org_name, items, pr)| AdvisoryExposure {
                org_id,
                org_name,
                items,
                top_priority: Priority::from_rank(pr).unwrap_or(Priority::P4),
            })
            .collect())
    }

    /// Build the match index for advisories stored before it existed.
    /// Returns how many advisories were indexed.
    pub async fn ensure_match_index(&self) -> Result<usize> {
        let missing: Vec<(String,)> = on_pool!(self, |p| sqlx::query_as(
            "SELECT a.vuln_id FROM advisories a WHERE NOT EXISTS \
             (SELECT 1 FROM advisory_statements s WHERE s.vuln_id = a.vuln_id)"
        )
        .fetch_all(p)
        .await)?;
        let mut done = 0;
        for chunk in missing.chunks(CHUNK) {
            let vulns: Vec<String> = chunk.iter().map(|(v,)| v.clone()).collect();
            on_pool!(self, |p| {
                let mut tx = p.begin().await?;
                for v in &vulns {
                    let bodies: Vec<(Vec<u8>,)> = sqlx::query_as(
                        "SELECT body FROM source_records WHERE vuln_id = $1 ORDER BY source, record_id",
                    )
                    .bind(v)
                    .fetch_all(&mut *tx)
                    .await?;
                    let records = bodies
                        .iter()
                        .map(|(b,)| decode_json::<SourceRecord>(b))
                        .collect::<Result<Vec<_>>>()?;
                    let body = encode_json(&statements_only(&records))?;
                    sqlx::query(
                        "INSERT INTO advisory_statements (vuln_id, body) VALUES ($1, $2) \
                         ON CONFLICT (vuln_id) DO UPDATE SET body = excluded.body",
                    )
                    .bind(v)
                    .bind(body)
                    .execute(&mut *tx)
                    .await?;
                    for key in openwarp_matching::keys::advisory_keys(&records) {
                        sqlx::query(
                            "INSERT INTO advisory_keys (key, vuln_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
                        )
                        .bind(key)
                        .bind(v)
                        .execute(&mut *tx)
                        .await?;
                    }
                }
                tx.commit().await?;
                Ok::<_, StoreError>(())
            })?;
            done += vulns.len();
        }
        Ok(done)
    }
}

//! Confidential incident reports, their sanitised versions, timelines,
//! access log and shared-supplier warnings.
//!
//! The store keeps the facts; who may see which version is decided by
//! `openwarp_core::incident` (the web layer asks it before every read and
//! change, and records each in [`Store::log_incident_access`]).
//!
//! An incident is addressed by its random `public_id` (never the row id),
//! so ids cannot be guessed or enumerated. When a report names a supplier
//! or shared service, every *other* member that lists the same supplier
//! (compared by `core::supplier_key`) is warned — in the same transaction
//! as the report, through the alerts outbox — without naming the reporter.

use crate::alerts::{AlertContent, AlertKind, AlertTx, NewAlert};
use crate::{Result, Store, StoreError, corrupt, crypto, on_pool};
use chrono::{DateTime, Utc};
use openwarp_core::incident::{
    Attribution, EscalationTarget, IncidentCategory, IncidentDraft, IncidentFacts, IncidentStatus,
    Indicator, SanitisedDraft, SharingState, attribution_text, supplier_warning,
};
use openwarp_core::{CouncilType, OrgId, TlpLabel, UserId, supplier_key};
use openwarp_matching::priority::Priority;
use serde::Serialize;

/// The sanitised version of an incident (proposed or shared).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SharedVersion {
    pub title: String,
    pub summary: String,
    pub tlp: TlpLabel,
    pub attribution: Attribution,
    pub share_indicators: bool,
    pub recipient_orgs: Vec<OrgId>,
    pub recipient_users: Vec<UserId>,
    pub shared_by: Option<UserId>,
    pub shared_at: Option<DateTime<Utc>>,
}

/// An incident as stored (the full report; callers decide what to show).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Incident {
    /// Internal row id: never shown, never accepted from outside.
    #[serde(skip)]
    pub id: i64,
    /// The random id used in URLs, the API and exports.
    pub public_id: String,
    pub org_id: OrgId,
    pub org_name: String,
    pub council_type: CouncilType,
    pub reporter_id: Option<UserId>,
    pub reporter_name: Option<String>,
    pub report: IncidentDraft,
    pub ico_notified_at: Option<DateTime<Utc>>,
    pub ico_method: Option<String>,
    pub ico_reference: Option<String>,
    pub sharing: SharingState,
    pub shared: Option<SharedVersion>,
    pub lessons: Option<String>,
    pub lessons_shared: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub closed_at: Option<DateTime<Utc>>,
}

impl Incident {
    /// What the visibility rules need.
    pub fn facts(&self) -> IncidentFacts {
        let shared = self.shared.as_ref();
        IncidentFacts {
            org_id: self.org_id,
            reporter: self.reporter_id,
            tlp: self.report.tlp,
            sharing: self.sharing,
            shared_tlp: shared.map_or(TlpLabel::Red, |s| s.tlp),
            recipient_orgs: shared.map(|s| s.recipient_orgs.clone()).unwrap_or_default(),
            recipient_users: shared
                .map(|s| s.recipient_users.clone())
                .unwrap_or_default(),
        }
    }

    /// How others see the reporting organisation named.
    pub fn attribution(&self, region: &str) -> String {
        let a = self
            .shared
            .as_ref()
            .filter(|_| self.sharing == SharingState::Shared)
            .map_or(Attribution::Anonymous, |s| s.attribution);
        attribution_text(a, &self.org_name, self.council_type, region)
    }
}

/// One entry of an incident's timeline (escalations, ICO, sharing, status…).
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct IncidentEvent {
    /// When it happened (as recorded by the person, e.g. when NCSC was called).
    pub at: DateTime<Utc>,
    /// When it was written down.
    pub recorded_at: DateTime<Utc>,
    /// Who wrote it (a person's name), or nobody for openwarp itself.
    pub by: Option<String>,
    pub kind: String,
    pub target: Option<String>,
    pub reference: Option<String>,
    pub detail: String,
}

/// One read or change of an incident.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct IncidentAccess {
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub view: String,
    pub ip: Option<String>,
}

/// A member warned because it uses the supplier an incident names.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct SupplierWarning {
    pub org_id: i64,
    pub org_name: String,
    pub supplier: String,
    pub alert_id: Option<i64>,
    pub at: DateTime<Utc>,
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    public_id: String,
    org_id: i64,
    org_name: String,
    council_type: String,
    reporter_id: Option<i64>,
    reporter_name: Option<String>,
    title: String,
    summary: String,
    category: String,
    started_at: Option<DateTime<Utc>>,
    detected_at: DateTime<Utc>,
    affected_services: String,
    supplier: Option<String>,
    personal_data: bool,
    status: String,
    indicators: String,
    tlp: String,
    ico_notified_at: Option<DateTime<Utc>>,
    ico_method: Option<String>,
    ico_reference: Option<String>,
    sharing: String,
    shared_title: Option<String>,
    shared_summary: Option<String>,
    shared_tlp: Option<String>,
    attribution: Option<String>,
    share_indicators: bool,
    shared_by: Option<i64>,
    shared_at: Option<DateTime<Utc>>,
    lessons: Option<String>,
    lessons_shared: bool,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
    closed_at: Option<DateTime<Utc>>,
}

const SELECT: &str = "SELECT i.id, i.public_id, i.org_id, o.name AS org_name, o.council_type, i.reporter_id, \
     u.display_name AS reporter_name, i.title, i.summary, i.category, i.started_at, i.detected_at, \
     i.affected_services, i.supplier, i.personal_data, i.status, i.indicators, i.tlp, i.ico_notified_at, \
     i.ico_method, i.ico_reference, i.sharing, i.shared_title, i.shared_summary, i.shared_tlp, i.attribution, \
     i.share_indicators, i.shared_by, i.shared_at, i.lessons, i.lessons_shared, i.created_at, i.updated_at, \
     i.closed_at FROM incidents i JOIN organisations o ON o.id = i.org_id \
     LEFT JOIN users u ON u.id = i.reporter_id";

fn parse<T>(v: Option<T>, what: &str, raw: &str) -> Result<T> {
    v.ok_or_else(|| corrupt(format!("{what} {raw}")))
}

impl Row {
    fn into_incident(self, recipients: &[(Option<i64>, Option<i64>)]) -> Result<Incident> {
        let council_type = parse(
            CouncilType::ALL
                .into_iter()
                .find(|c| c.as_str() == self.council_type),
            "council type",
            &self.council_type,
        )?;
        let indicators: Vec<Indicator> = serde_json::from_str(&self.indicators).map_err(corrupt)?;
        let sharing = parse(SharingState::parse(&self.sharing), "sharing", &self.sharing)?;
        let shared = match (self.shared_title, self.shared_summary, self.shared_tlp) {
            (Some(title), Some(summary), Some(tlp)) if sharing != SharingState::Private => {
                Some(SharedVersion {
                    title,
                    summary,
                    tlp: parse(TlpLabel::parse(&tlp), "tlp", &tlp)?,
                    attribution: if self.attribution.as_deref() == Some("named") {
                        Attribution::Named
                    } else {
                        Attribution::Anonymous
                    },
                    share_indicators: self.share_indicators,
                    recipient_orgs: recipients
                        .iter()
                        .filter_map(|(o, _)| o.map(OrgId))
                        .collect(),
                    recipient_users: recipients
                        .iter()
                        .filter_map(|(_, u)| u.map(UserId))
                        .collect(),
                    shared_by: self.shared_by.map(UserId),
                    shared_at: self.shared_at,
                })
            }
            _ => None,
        };
        Ok(Incident {
            id: self.id,
            public_id: self.public_id,
            org_id: OrgId(self.org_id),
            org_name: self.org_name,
            council_type,
            reporter_id: self.reporter_id.map(UserId),
            reporter_name: self.reporter_name,
            report: IncidentDraft {
                title: self.title,
                summary: self.summary,
                category: parse(
                    IncidentCategory::parse(&self.category),
                    "category",
                    &self.category,
                )?,
                started_at: self.started_at,
                detected_at: self.detected_at,
                affected_services: self.affected_services,
                supplier: self.supplier,
                personal_data: self.personal_data,
                status: parse(IncidentStatus::parse(&self.status), "status", &self.status)?,
                indicators,
                tlp: parse(TlpLabel::parse(&self.tlp), "tlp", &self.tlp)?,
            },
            ico_notified_at: self.ico_notified_at,
            ico_method: self.ico_method,
            ico_reference: self.ico_reference,
            sharing,
            shared,
            lessons: self.lessons,
            lessons_shared: self.lessons_shared,
            created_at: self.created_at,
            updated_at: self.updated_at,
            closed_at: self.closed_at,
        })
    }
}

/// A fresh random public id: `inc-` and 22 base64url characters (132 bits).
fn new_public_id() -> String {
    let t = crypto::new_token();
    format!("inc-{}", t.chars().take(22).collect::<String>())
}

/// Which incidents to list.
#[derive(Debug, Clone, Default)]
pub struct IncidentFilter {
    /// This organisation's own incidents.
    pub org: Option<OrgId>,
    /// Also incidents with a shared sanitised version (for other members;
    /// the caller still applies the visibility rules to each).
    pub include_shared: bool,
    /// Every incident (operators).
    pub all: bool,
    pub limit: Option<i64>,
}

/// Raise an incident's supplier warnings inside the transaction that records
/// the report, and remember which member each one went to (operators see
/// the list). One implementation per backend from one body.
trait SupplierWarningTx {
    async fn warn_supplier_users(
        &mut self,
        incident_id: i64,
        supplier_key: Option<&str>,
        warnings: &[NewAlert],
        audience: &crate::alerts::Audience,
        now: DateTime<Utc>,
    ) -> Result<()>;
}

macro_rules! impl_supplier_warning_tx {
    ($db:ty) => {
        impl SupplierWarningTx for sqlx::Transaction<'_, $db> {
            async fn warn_supplier_users(
                &mut self,
                incident_id: i64,
                supplier_key: Option<&str>,
                warnings: &[NewAlert],
                audience: &crate::alerts::Audience,
                now: DateTime<Utc>,
            ) -> Result<()> {
                self.queue_alerts(warnings, audience, now).await?;
                for w in warnings {
                    let alert: Option<(i64,)> =
                        sqlx::query_as("SELECT id FROM alerts WHERE dedup_key = $1")
                            .bind(&w.dedup_key)
                            .fetch_optional(&mut **self)
                            .await?;
                    sqlx::query(
                        "INSERT INTO incident_warnings (incident_id, org_id, supplier, alert_id, at) \
                         VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
                    )
                    .bind(incident_id)
                    .bind(w.org_id)
                    .bind(supplier_key.unwrap_or_default())
                    .bind(alert.map(|(a,)| a))
                    .bind(now)
                    .execute(&mut **self)
                    .await?;
                }
                Ok(())
            }
        }
    };
}
impl_supplier_warning_tx!(sqlx::Sqlite);
impl_supplier_warning_tx!(sqlx::Postgres);

impl Store {
    async fn recipients(&self, id: i64) -> Result<Vec<(Option<i64>, Option<i64>)>> {
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT org_id, user_id FROM incident_recipients WHERE incident_id = $1 \
                 ORDER BY org_id, user_id",
            )
            .bind(id)
            .fetch_all(p)
            .await
        })?)
    }

    /// One incident by its public id.
    pub async fn incident(&self, public_id: &str) -> Result<Option<Incident>> {
        let row: Option<Row> = on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new(SELECT);
            qb.push(" WHERE i.public_id = ").push_bind(public_id);
            qb.build_query_as().fetch_optional(p).await
        })?;
        match row {
            Some(r) => {
                let rec = self.recipients(r.id).await?;
                Ok(Some(r.into_incident(&rec)?))
            }
            None => Ok(None),
        }
    }

    pub(crate) async fn incident_or_404(&self, public_id: &str) -> Result<Incident> {
        self.incident(public_id)
            .await?
            .ok_or(StoreError::NotFound("incident"))
    }

    /// Candidate incidents, newest first: an organisation's own and/or those
    /// shared (the caller filters each through the visibility rules).
    pub async fn incidents(&self, f: &IncidentFilter) -> Result<Vec<Incident>> {
        let rows: Vec<Row> = on_pool!(self, |p| {
            let mut qb = sqlx::QueryBuilder::new(SELECT);
            if f.all {
                qb.push(" WHERE 1 = 1");
            } else {
                qb.push(" WHERE (1 = 0");
                if let Some(o) = f.org {
                    qb.push(" OR i.org_id = ").push_bind(o.0);
                }
                if f.include_shared {
                    qb.push(" OR i.sharing = 'shared' OR i.lessons_shared = TRUE");
                }
                qb.push(")");
            }
            qb.push(" ORDER BY i.created_at DESC, i.id DESC LIMIT ")
                .push_bind(f.limit.unwrap_or(500).clamp(1, 5000));
            qb.build_query_as().fetch_all(p).await
        })?;
        let mut out = Vec::with_capacity(rows.len());
        for r in rows {
            let rec = self.recipients(r.id).await?;
            out.push(r.into_incident(&rec)?);
        }
        Ok(out)
    }

    /// Record a new report by `reporter` of `org`, and warn every other
    /// member using the supplier it names (anonymously: `region` words the
    /// attribution, e.g. "the South East"), in one transaction.
    pub async fn create_incident(
        &self,
        org: OrgId,
        reporter: UserId,
        report: &IncidentDraft,
        region: &str,
        now: DateTime<Utc>,
    ) -> Result<Incident> {
        let public_id = new_public_id();
        let indicators = serde_json::to_string(&report.indicators).map_err(corrupt)?;
        let key = report.supplier.as_deref().map(supplier_key);
        let (warnings, audience) = self
            .supplier_warnings_for(org, report, key.as_deref(), region, &public_id)
            .await?;
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            let (id,): (i64,) = sqlx::query_as(
                "INSERT INTO incidents (public_id, org_id, reporter_id, title, summary, category, started_at, \
                 detected_at, affected_services, supplier, supplier_key, personal_data, status, indicators, tlp, \
                 created_at, updated_at, closed_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $16, $17) RETURNING id",
            )
            .bind(&public_id)
            .bind(org.0)
            .bind(reporter.0)
            .bind(&report.title)
            .bind(&report.summary)
            .bind(report.category.as_str())
            .bind(report.started_at)
            .bind(report.detected_at)
            .bind(&report.affected_services)
            .bind(&report.supplier)
            .bind(&key)
            .bind(report.personal_data)
            .bind(report.status.as_str())
            .bind(&indicators)
            .bind(report.tlp.as_str())
            .bind(now)
            .bind((report.status == IncidentStatus::Closed).then_some(now))
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO incident_events (incident_id, at, recorded_at, user_id, kind, detail) \
                 VALUES ($1, $2, $2, $3, 'reported', $4)",
            )
            .bind(id)
            .bind(now)
            .bind(reporter.0)
            .bind(format!(
                "Reported: {} at {}",
                report.category.label(),
                report.tlp.label()
            ))
            .execute(&mut *tx)
            .await?;
            tx.warn_supplier_users(id, key.as_deref(), &warnings, &audience, now)
                .await?;
            if !warnings.is_empty() {
                sqlx::query(
                    "INSERT INTO incident_events (incident_id, at, recorded_at, kind, detail) \
                     VALUES ($1, $2, $2, 'warning', $3)",
                )
                .bind(id)
                .bind(now)
                .bind(format!(
                    "{} other member{} using {} warned, without naming the reporter",
                    warnings.len(),
                    if warnings.len() == 1 { "" } else { "s" },
                    report.supplier.as_deref().unwrap_or_default()
                ))
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        self.incident_or_404(&public_id).await
    }

    /// The warnings to raise for a report naming a supplier: one alert per
    /// other member listing the same supplier, not yet warned about it.
    async fn supplier_warnings_for(
        &self,
        org: OrgId,
        report: &IncidentDraft,
        key: Option<&str>,
        region: &str,
        public_id: &str,
    ) -> Result<(Vec<NewAlert>, crate::alerts::Audience)> {
        let (Some(key), Some(supplier)) = (key, report.supplier.as_deref()) else {
            return Ok((Vec::new(), crate::alerts::Audience::default()));
        };
        let reporter: Option<(String, String)> = on_pool!(self, |p| {
            sqlx::query_as("SELECT name, council_type FROM organisations WHERE id = $1")
                .bind(org.0)
                .fetch_optional(p)
                .await
        })?;
        let (org_name, kind) = reporter.ok_or(StoreError::NotFound("organisation"))?;
        let council_type = parse(
            CouncilType::ALL.into_iter().find(|c| c.as_str() == kind),
            "council type",
            &kind,
        )?;
        let reported_by = attribution_text(Attribution::Anonymous, &org_name, council_type, region);
        let others: Vec<(i64, String)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT DISTINCT s.org_id, s.name FROM suppliers s JOIN organisations o ON o.id = s.org_id \
                 WHERE s.name_key = $1 AND s.org_id <> $2 AND o.status IN ('pending', 'active', 'lapsed') \
                 ORDER BY s.org_id",
            )
            .bind(key)
            .bind(org.0)
            .fetch_all(p)
            .await
        })?;
        let (title, summary) = supplier_warning(supplier, report.category, &reported_by);
        let alerts: Vec<NewAlert> = others
            .iter()
            .map(|(o, their_name)| NewAlert {
                org_id: *o,
                kind: AlertKind::Warp,
                vuln_id: None,
                warp_advisory_id: None,
                priority: Priority::P1,
                tlp: TlpLabel::Amber,
                title: title.clone(),
                content: AlertContent {
                    summary: summary.clone(),
                    reason: format!(
                        "P1 because your organisation lists {their_name} as a supplier, and an incident \
                         involving it is under way"
                    ),
                    changes: Vec::new(),
                    items: Vec::new(),
                    action: Some(format!(
                        "Check your connections and accounts shared with {their_name}, ask them what is \
                         affected, and watch for unusual activity."
                    )),
                    due: None,
                    sources: Vec::new(),
                    path: "/suppliers".into(),
                },
                dedup_key: format!("supplier:{public_id}:{o}:{key}"),
            })
            .collect();
        let orgs: Vec<i64> = others.iter().map(|(o, _)| *o).collect();
        let audience = self.audience(&orgs).await?;
        Ok((alerts, audience))
    }

    /// Replace the report's facts (the reporting organisation); a newly
    /// named supplier warns its other users as a new report would.
    pub async fn update_incident(
        &self,
        public_id: &str,
        report: &IncidentDraft,
        by: UserId,
        region: &str,
        now: DateTime<Utc>,
    ) -> Result<Incident> {
        let old = self.incident_or_404(public_id).await?;
        let indicators = serde_json::to_string(&report.indicators).map_err(corrupt)?;
        let key = report.supplier.as_deref().map(supplier_key);
        let old_key = old.report.supplier.as_deref().map(supplier_key);
        let (warnings, audience) = if key != old_key {
            self.supplier_warnings_for(old.org_id, report, key.as_deref(), region, public_id)
                .await?
        } else {
            (Vec::new(), crate::alerts::Audience::default())
        };
        let mut changes = Vec::new();
        if old.report.status != report.status {
            changes.push(format!(
                "Status: {} → {}",
                old.report.status.label(),
                report.status.label()
            ));
        }
        if old.report.tlp != report.tlp {
            changes.push(format!("Label: {} → {}", old.report.tlp, report.tlp));
        }
        if old.report != *report && changes.is_empty() {
            changes.push("Report updated".into());
        }
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE incidents SET title = $1, summary = $2, category = $3, started_at = $4, detected_at = $5, \
                 affected_services = $6, supplier = $7, supplier_key = $8, personal_data = $9, status = $10, \
                 indicators = $11, tlp = $12, updated_at = $13, \
                 closed_at = CASE WHEN $10 = 'closed' THEN COALESCE(closed_at, $13) ELSE NULL END \
                 WHERE id = $14",
            )
            .bind(&report.title)
            .bind(&report.summary)
            .bind(report.category.as_str())
            .bind(report.started_at)
            .bind(report.detected_at)
            .bind(&report.affected_services)
            .bind(&report.supplier)
            .bind(&key)
            .bind(report.personal_data)
            .bind(report.status.as_str())
            .bind(&indicators)
            .bind(report.tlp.as_str())
            .bind(now)
            .bind(old.id)
            .execute(&mut *tx)
            .await?;
            for c in &changes {
                sqlx::query(
                    "INSERT INTO incident_events (incident_id, at, recorded_at, user_id, kind, detail) \
                     VALUES ($1, $2, $2, $3, $4, $5)",
                )
                .bind(old.id)
                .bind(now)
                .bind(by.0)
                .bind(if c.starts_with("Status") { "status" } else { "updated" })
                .bind(c)
                .execute(&mut *tx)
                .await?;
            }
            tx.warn_supplier_users(old.id, key.as_deref(), &warnings, &audience, now)
                .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        self.incident_or_404(public_id).await
    }

    /// Add a timeline entry: a referral (`kind` "escalation" with its
    /// target and reference), or a note.
    #[allow(clippy::too_many_arguments)]
    pub async fn log_incident_event(
        &self,
        public_id: &str,
        kind: &str,
        target: Option<EscalationTarget>,
        reference: Option<&str>,
        detail: &str,
        at: DateTime<Utc>,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<()> {
        if !matches!(kind, "escalation" | "note") {
            return Err(corrupt(format!("event kind {kind}")));
        }
        let inc = self.incident_or_404(public_id).await?;
        on_pool!(self, |p| {
            sqlx::query(
                "INSERT INTO incident_events (incident_id, at, recorded_at, user_id, kind, target, reference, detail) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(inc.id)
            .bind(at)
            .bind(now)
            .bind(by.0)
            .bind(kind)
            .bind(target.map(EscalationTarget::as_str))
            .bind(reference)
            .bind(detail)
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Record that (and how) the ICO was told of a personal-data breach.
    pub async fn record_ico_notification(
        &self,
        public_id: &str,
        at: DateTime<Utc>,
        method: &str,
        reference: Option<&str>,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<Incident> {
        let inc = self.incident_or_404(public_id).await?;
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE incidents SET ico_notified_at = $1, ico_method = $2, ico_reference = $3, updated_at = $4 \
                 WHERE id = $5",
            )
            .bind(at)
            .bind(method)
            .bind(reference)
            .bind(now)
            .bind(inc.id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO incident_events (incident_id, at, recorded_at, user_id, kind, target, reference, detail) \
                 VALUES ($1, $2, $3, $4, 'ico', 'ico', $5, $6)",
            )
            .bind(inc.id)
            .bind(at)
            .bind(now)
            .bind(by.0)
            .bind(reference)
            .bind(format!("ICO notified ({method})"))
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        self.incident_or_404(public_id).await
    }

    /// Write the sanitised version. `authorised` (the reporting
    /// organisation's reporter or lead) shares it at once; otherwise (an
    /// operator's draft) it waits as `proposed` for their approval.
    pub async fn set_sanitised_version(
        &self,
        public_id: &str,
        v: &SanitisedDraft,
        authorised: bool,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<Incident> {
        let inc = self.incident_or_404(public_id).await?;
        let state = if authorised {
            SharingState::Shared
        } else {
            SharingState::Proposed
        };
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE incidents SET sharing = $1, shared_title = $2, shared_summary = $3, shared_tlp = $4, \
                 attribution = $5, share_indicators = $6, shared_by = $7, shared_at = $8, updated_at = $8 \
                 WHERE id = $9",
            )
            .bind(state.as_str())
            .bind(&v.title)
            .bind(&v.summary)
            .bind(v.tlp.as_str())
            .bind(match v.attribution {
                Attribution::Anonymous => "anonymous",
                Attribution::Named => "named",
            })
            .bind(v.share_indicators)
            .bind(by.0)
            .bind(now)
            .bind(inc.id)
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM incident_recipients WHERE incident_id = $1")
                .bind(inc.id)
                .execute(&mut *tx)
                .await?;
            for o in &v.recipient_orgs {
                sqlx::query(
                    "INSERT INTO incident_recipients (incident_id, org_id) VALUES ($1, $2)",
                )
                .bind(inc.id)
                .bind(o.0)
                .execute(&mut *tx)
                .await?;
            }
            for u in &v.recipient_users {
                sqlx::query(
                    "INSERT INTO incident_recipients (incident_id, user_id) VALUES ($1, $2)",
                )
                .bind(inc.id)
                .bind(u.0)
                .execute(&mut *tx)
                .await?;
            }
            let detail = if authorised {
                format!(
                    "Sanitised version shared at {}, {}",
                    v.tlp,
                    match v.attribution {
                        Attribution::Anonymous => "anonymously",
                        Attribution::Named => "naming the organisation",
                    }
                )
            } else {
                format!(
                    "Sanitised version at {} proposed, awaiting the reporting organisation's approval",
                    v.tlp
                )
            };
            sqlx::query(
                "INSERT INTO incident_events (incident_id, at, recorded_at, user_id, kind, detail) \
                 VALUES ($1, $2, $2, $3, 'sharing', $4)",
            )
            .bind(inc.id)
            .bind(now)
            .bind(by.0)
            .bind(detail)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        self.incident_or_404(public_id).await
    }

    /// The reporting organisation approves the proposed sanitised version.
    pub async fn approve_sanitised_version(
        &self,
        public_id: &str,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<Incident> {
        self.set_sharing_state(
            public_id,
            "proposed",
            SharingState::Shared,
            by,
            now,
            "Proposed sanitised version approved and shared",
        )
        .await
    }

    /// Stop sharing (or refuse a proposal): nothing leaves the room again.
    pub async fn withdraw_sharing(
        &self,
        public_id: &str,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<Incident> {
        self.set_sharing_state(
            public_id,
            "any",
            SharingState::Private,
            by,
            now,
            "Sharing withdrawn: the incident is private again",
        )
        .await
    }

    async fn set_sharing_state(
        &self,
        public_id: &str,
        from: &str,
        to: SharingState,
        by: UserId,
        now: DateTime<Utc>,
        detail: &str,
    ) -> Result<Incident> {
        let inc = self.incident_or_404(public_id).await?;
        let allowed = match from {
            "proposed" => inc.sharing == SharingState::Proposed,
            _ => inc.sharing != SharingState::Private,
        };
        if !allowed {
            return Err(StoreError::Conflict(format!(
                "the incident's sharing is {}; nothing to do",
                inc.sharing.as_str()
            )));
        }
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE incidents SET sharing = $1, shared_by = $2, shared_at = $3, updated_at = $3 WHERE id = $4",
            )
            .bind(to.as_str())
            .bind(by.0)
            .bind(now)
            .bind(inc.id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO incident_events (incident_id, at, recorded_at, user_id, kind, detail) \
                 VALUES ($1, $2, $2, $3, 'sharing', $4)",
            )
            .bind(inc.id)
            .bind(now)
            .bind(by.0)
            .bind(detail)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        self.incident_or_404(public_id).await
    }

    /// Record the lessons learnt (after closure), and whether every member
    /// may read them.
    pub async fn set_lessons(
        &self,
        public_id: &str,
        lessons: &str,
        share: bool,
        by: UserId,
        now: DateTime<Utc>,
    ) -> Result<Incident> {
        let inc = self.incident_or_404(public_id).await?;
        if inc.report.status != IncidentStatus::Closed {
            return Err(StoreError::Conflict(
                "lessons learnt are recorded once the incident is closed".into(),
            ));
        }
        on_pool!(self, |p| {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE incidents SET lessons = $1, lessons_shared = $2, updated_at = $3 WHERE id = $4",
            )
            .bind(lessons)
            .bind(share)
            .bind(now)
            .bind(inc.id)
            .execute(&mut *tx)
            .await?;
            sqlx::query(
                "INSERT INTO incident_events (incident_id, at, recorded_at, user_id, kind, detail) \
                 VALUES ($1, $2, $2, $3, 'lessons', $4)",
            )
            .bind(inc.id)
            .bind(now)
            .bind(by.0)
            .bind(if share {
                "Lessons learnt recorded and shared with every member"
            } else {
                "Lessons learnt recorded (not shared)"
            })
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok::<_, StoreError>(())
        })?;
        self.incident_or_404(public_id).await
    }

    /// The timeline, oldest first.
    pub async fn incident_timeline(&self, public_id: &str) -> Result<Vec<IncidentEvent>> {
        let inc = self.incident_or_404(public_id).await?;
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT e.at, e.recorded_at, u.display_name AS by, e.kind, e.target, e.reference, e.detail \
                 FROM incident_events e LEFT JOIN users u ON u.id = e.user_id \
                 WHERE e.incident_id = $1 ORDER BY e.at, e.id",
            )
            .bind(inc.id)
            .fetch_all(p)
            .await
        })?)
    }

    /// Record a read or change of an incident (who, what, which version).
    #[allow(clippy::too_many_arguments)]
    pub async fn log_incident_access(
        &self,
        incident: &Incident,
        user: Option<UserId>,
        actor: &str,
        action: &str,
        view: &str,
        ip: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<()> {
        on_pool!(self, |p| {
            sqlx::query(
                "INSERT INTO incident_access (incident_id, at, user_id, actor, action, view, ip) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7)",
            )
            .bind(incident.id)
            .bind(now)
            .bind(user.map(|u| u.0))
            .bind(actor)
            .bind(action)
            .bind(view)
            .bind(ip)
            .execute(p)
            .await
            .map(|_| ())
        })?;
        Ok(())
    }

    /// Who read and changed an incident, newest first.
    pub async fn incident_access_log(&self, public_id: &str) -> Result<Vec<IncidentAccess>> {
        let inc = self.incident_or_404(public_id).await?;
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT at, actor, action, view, ip FROM incident_access WHERE incident_id = $1 \
                 ORDER BY at DESC, id DESC LIMIT 1000",
            )
            .bind(inc.id)
            .fetch_all(p)
            .await
        })?)
    }

    /// Remind each reporting organisation whose personal-data breach has
    /// not been notified to the ICO and has less than a day of its 72 hours
    /// left: one P1 alert per incident (the subject names no detail, as the
    /// report may be RED). Safe to run often and from every instance.
    /// Returns how many reminders were raised.
    pub async fn queue_ico_reminders(&self, now: DateTime<Utc>) -> Result<u64> {
        use openwarp_core::incident::{ICO_HOURS, ICO_WARN_HOURS};
        let from = now - chrono::Duration::hours(ICO_HOURS);
        let to = now - chrono::Duration::hours(ICO_HOURS - ICO_WARN_HOURS);
        let due: Vec<(String, i64, DateTime<Utc>)> = on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT public_id, org_id, detected_at FROM incidents WHERE personal_data = TRUE \
                 AND ico_notified_at IS NULL AND detected_at > $1 AND detected_at <= $2",
            )
            .bind(from)
            .bind(to)
            .fetch_all(p)
            .await
        })?;
        let alerts: Vec<NewAlert> = due
            .iter()
            .map(|(public_id, org, detected)| {
                let deadline = *detected + chrono::Duration::hours(ICO_HOURS);
                NewAlert {
                    org_id: *org,
                    kind: AlertKind::Warp,
                    vuln_id: None,
                    warp_advisory_id: None,
                    priority: Priority::P1,
                    tlp: TlpLabel::AmberStrict,
                    title: "ICO deadline within 24 hours for an incident you reported".into(),
                    content: AlertContent {
                        summary: format!(
                            "An incident your organisation reported involves personal data and the ICO \
                             has not been recorded as told. The 72 hours end at {} UTC.",
                            deadline.format("%H:%M on %-d %B %Y")
                        ),
                        reason: "P1 because the legal deadline (UK GDPR article 33) is less than a day away"
                            .into(),
                        changes: Vec::new(),
                        items: Vec::new(),
                        action: Some(
                            "Notify the ICO, or record on the incident that you have (or why not).".into(),
                        ),
                        due: Some(deadline.date_naive()),
                        sources: Vec::new(),
                        path: format!("/incidents/{public_id}"),
                    },
                    dedup_key: format!("ico-reminder:{public_id}"),
                }
            })
            .collect();
        Ok(self.raise_alerts(&alerts, now).await?.0)
    }

    /// The members warned because they use the supplier an incident names
    /// (the operators' correlation view).
    pub async fn incident_supplier_warnings(
        &self,
        public_id: &str,
    ) -> Result<Vec<SupplierWarning>> {
        let inc = self.incident_or_404(public_id).await?;
        Ok(on_pool!(self, |p| {
            sqlx::query_as(
                "SELECT w.org_id, o.name AS org_name, w.supplier, w.alert_id, w.at FROM incident_warnings w \
                 JOIN organisations o ON o.id = w.org_id WHERE w.incident_id = $1 ORDER BY o.name",
            )
            .bind(inc.id)
            .fetch_all(p)
            .await
        })?)
    }
}

//! Member organisations.

use crate::{Result, Store, StoreError, conflict_on_unique, corrupt, on_pool};
use chrono::{DateTime, NaiveDate, Utc};
use openwarp_core::{
    Contact, CouncilType, FeeSchedule, Governance, MembershipStatus, OrgId, OrganisationDraft,
    Pence,
};
use serde::Serialize;

/// A stored member organisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Organisation {
    pub id: OrgId,
    pub name: String,
    pub council_type: CouncilType,
    pub employers_member: bool,
    pub status: MembershipStatus,
    pub renewal_date: NaiveDate,
    pub governance: Governance,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Organisation {
    /// The annual fee under `schedule` (computed, never stored).
    pub fn annual_fee(&self, schedule: &FeeSchedule) -> Pence {
        schedule.annual_fee(self.council_type, self.employers_member)
    }

    pub fn draft(&self) -> OrganisationDraft {
        OrganisationDraft {
            name: self.name.clone(),
            council_type: self.council_type,
            employers_member: self.employers_member,
            status: self.status,
            renewal_date: self.renewal_date,
            governance: self.governance.clone(),
        }
    }
}

#[derive(sqlx::FromRow)]
struct OrgRow {
    id: i64,
    name: String,
    council_type: String,
    employers_member: bool,
    status: String,
    renewal_date: NaiveDate,
    senior_officer_name: String,
    senior_officer_email: String,
    senior_officer_phone: String,
    lead_member_name: String,
    lead_member_email: String,
    lead_member_phone: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<OrgRow> for Organisation {
    type Error = StoreError;
    fn try_from(r: OrgRow) -> Result<Self> {
        Ok(Organisation {
            id: OrgId(r.id),
            name: r.name,
            council_type: r.council_type.parse().map_err(corrupt)?,
            employers_member: r.employers_member,
            status: r.status.parse().map_err(corrupt)?,
            renewal_date: r.renewal_date,
            governance: Governance {
                senior_officer: Contact {
                    name: r.senior_officer_name,
                    email: r.senior_officer_email,
                    phone: r.senior_officer_phone,
                },
                lead_member: Contact {
                    name: r.lead_member_name,
                    email: r.lead_member_email,
                    phone: r.lead_member_phone,
                },
            },
            created_at: r.created_at,
            updated_at: r.updated_at,
        })
    }
}

macro_rules! columns {
    () => {
        "id, name, council_type, employers_member, status, renewal_date, \
         senior_officer_name, senior_officer_email, senior_officer_phone, \
         lead_member_name, lead_member_email, lead_member_phone, created_at, updated_at"
    };
}

/// Two organisation names clash when they differ only in case and spacing.
fn name_key(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

fn duplicate(name: &str) -> String {
    format!("an organisation called '{name}' already exists")
}

impl Store {
    pub async fn create_org(
        &self,
        d: &OrganisationDraft,
        now: DateTime<Utc>,
    ) -> Result<Organisation> {
        let g = &d.governance;
        let sql = concat!(
            "INSERT INTO organisations (name, name_key, council_type, employers_member, status, \
             renewal_date, senior_officer_name, senior_officer_email, senior_officer_phone, \
             lead_member_name, lead_member_email, lead_member_phone, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13) \
             RETURNING ",
            columns!()
        );
        let row: OrgRow = on_pool!(self, |p| sqlx::query_as(sql)
            .bind(&d.name)
            .bind(name_key(&d.name))
            .bind(d.council_type.as_str())
            .bind(d.employers_member)
            .bind(d.status.as_str())
            .bind(d.renewal_date)
            .bind(&g.senior_officer.name)
            .bind(&g.senior_officer.email)
            .bind(&g.senior_officer.phone)
            .bind(&g.lead_member.name)
            .bind(&g.lead_member.email)
            .bind(&g.lead_member.phone)
            .bind(now)
            .fetch_one(p)
            .await)
        .map_err(conflict_on_unique(duplicate(&d.name)))?;
        row.try_into()
    }

    /// Replace every field of organisation `id` with `d`.
    pub async fn update_org(
        &self,
        id: OrgId,
        d: &OrganisationDraft,
        now: DateTime<Utc>,
    ) -> Result<Organisation> {
        let g = &d.governance;
        let sql = concat!(
            "UPDATE organisations SET name = $2, name_key = $3, council_type = $4, \
             employers_member = $5, status = $6, renewal_date = $7, senior_officer_name = $8, \
             senior_officer_email = $9, senior_officer_phone = $10, lead_member_name = $11, \
             lead_member_email = $12, lead_member_phone = $13, updated_at = $14 WHERE id = $1 \
             RETURNING ",
            columns!()
        );
        let row: Option<OrgRow> = on_pool!(self, |p| sqlx::query_as(sql)
            .bind(id.0)
            .bind(&d.name)
            .bind(name_key(&d.name))
            .bind(d.council_type.as_str())
            .bind(d.employers_member)
            .bind(d.status.as_str())
            .bind(d.renewal_date)
            .bind(&g.senior_officer.name)
            .bind(&g.senior_officer.email)
            .bind(&g.senior_officer.phone)
            .bind(&g.lead_member.name)
            .bind(&g.lead_member.email)
            .bind(&g.lead_member.phone)
            .bind(now)
            .fetch_optional(p)
            .await)
        .map_err(conflict_on_unique(duplicate(&d.name)))?;
        row.ok_or(StoreError::NotFound("organisation"))?.try_into()
    }

    pub async fn get_org(&self, id: OrgId) -> Result<Option<Organisation>> {
        let sql = concat!("SELECT ", columns!(), " FROM organisations WHERE id = $1");
        let row: Option<OrgRow> = on_pool!(self, |p| sqlx::query_as(sql)
            .bind(id.0)
            .fetch_optional(p)
            .await)?;
        row.map(Organisation::try_from).transpose()
    }

    /// Find an organisation by name, ignoring case and spacing.
    pub async fn find_org_by_name(&self, name: &str) -> Result<Option<Organisation>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM organisations WHERE name_key = $1"
        );
        let row: Option<OrgRow> = on_pool!(self, |p| sqlx::query_as(sql)
            .bind(name_key(name))
            .fetch_optional(p)
            .await)?;
        row.map(Organisation::try_from).transpose()
    }

    /// Every organisation, by name.
    pub async fn list_orgs(&self) -> Result<Vec<Organisation>> {
        let sql = concat!(
            "SELECT ",
            columns!(),
            " FROM organisations ORDER BY name_key"
        );
        let rows: Vec<OrgRow> = on_pool!(self, |p| sqlx::query_as(sql).fetch_all(p).await)?;
        rows.into_iter().map(Organisation::try_from).collect()
    }

    /// Number of enabled users in each organisation, as (org, count).
    pub async fn user_counts(&self) -> Result<Vec<(OrgId, i64)>> {
        let sql = "SELECT org_id, COUNT(*) FROM users WHERE org_id IS NOT NULL AND disabled = FALSE GROUP BY org_id";
        let rows: Vec<(i64, i64)> = on_pool!(self, |p| sqlx::query_as(sql).fetch_all(p).await)?;
        Ok(rows.into_iter().map(|(o, n)| (OrgId(o), n)).collect())
    }
}

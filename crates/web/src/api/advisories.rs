//! API handlers for advisories.

use crate::AppState;
use crate::auth::ApiCaller;
use crate::error::{ApiError, ApiErrorBody, AppError};
use crate::pages::advisories::{AdvisoryQuery, PAGE_SIZE};
use axum::Json;
use axum::extract::{Path, RawQuery, State};
use chrono::{DateTime, NaiveDate, Utc};
use openwarp_store::AdvisoryRow;
use serde::Serialize;
use utoipa::ToSchema;

/// An advisory in a list.
#[derive(Serialize, ToSchema)]
pub struct AdvisoryItem {
    /// The vulnerability's id: its CVE id where it has one.
    pub id: String,
    pub title: String,
    pub published: Option<DateTime<Utc>>,
    pub modified: Option<DateTime<Utc>>,
    /// Highest CVSS base score any source gives.
    pub cvss_score: Option<f64>,
    pub cvss_version: Option<String>,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: Option<String>,
    /// Date CISA added it to the Known Exploited Vulnerabilities catalogue.
    pub kev_date_added: Option<NaiveDate>,
    pub kev_due_date: Option<NaiveDate>,
    pub kev_ransomware: bool,
    pub rejected: bool,
    /// Sources holding a record about it (`nvd`, `cve5`, `kev`, `csaf`, `osv`).
    pub sources: Vec<String>,
    pub epss_score: Option<f64>,
    pub epss_percentile: Option<f64>,
}

impl From<&AdvisoryRow> for AdvisoryItem {
    fn from(r: &AdvisoryRow) -> Self {
        AdvisoryItem {
            id: r.vuln_id.clone(),
            title: r.title.clone(),
            published: r.published,
            modified: r.modified,
            cvss_score: r.cvss_score,
            cvss_version: r.cvss_version.clone(),
            severity: r.severity.clone(),
            kev_date_added: r.kev_date_added,
            kev_due_date: r.kev_due_date,
            kev_ransomware: r.kev_ransomware,
            rejected: r.rejected,
            sources: r
                .sources
                .split(',')
                .filter(|s| !s.is_empty())
                .map(String::from)
                .collect(),
            epss_score: r.epss_score,
            epss_percentile: r.epss_percentile,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AdvisoryList {
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
    pub items: Vec<AdvisoryItem>,
}

/// Advisories matching the filters, most recently modified first, 50 a page.
#[utoipa::path(get, path = "/api/v1/advisories", tag = "advisories",
    params(
        ("q" = Option<String>, Query, description = "Words that must all appear in the id, aliases, title or vendor/product names"),
        ("severity" = Option<String>, Query, description = "Lowest severity: low, medium, high or critical"),
        ("kev" = Option<bool>, Query, description = "Only vulnerabilities in CISA's KEV catalogue"),
        ("epss" = Option<f64>, Query, description = "Lowest EPSS score, 0 to 1"),
        ("vendor" = Option<String>, Query, description = "Vendor name as in CPE or the source (case-insensitive)"),
        ("product" = Option<String>, Query, description = "Product name (case-insensitive)"),
        ("published_from" = Option<String>, Query, description = "YYYY-MM-DD"),
        ("published_to" = Option<String>, Query, description = "YYYY-MM-DD"),
        ("modified_from" = Option<String>, Query, description = "YYYY-MM-DD"),
        ("modified_to" = Option<String>, Query, description = "YYYY-MM-DD"),
        ("rejected" = Option<bool>, Query, description = "Include rejected CVEs"),
        ("page" = Option<i64>, Query, description = "1-based page number"),
    ),
    responses((status = 200, body = AdvisoryList), (status = 400, body = ApiErrorBody), (status = 401, body = ApiErrorBody)))]
pub async fn list_advisories(
    State(state): State<AppState>,
    ApiCaller(_user): ApiCaller,
    RawQuery(raw): RawQuery,
) -> Result<Json<AdvisoryList>, ApiError> {
    let query: AdvisoryQuery = raw
        .as_deref()
        .map(serde_urlencoded::from_str)
        .transpose()
        .map_err(|e| AppError::BadRequest(format!("the query could not be read: {e}")))?
        .unwrap_or_default();
    let (filter, mut problems) = query.filter();
    let page = query.page(&mut problems);
    if !problems.is_empty() {
        return Err(AppError::BadRequest(problems.join("; ")).into());
    }
    let result = state
        .store
        .list_advisories(&filter, PAGE_SIZE, (page - 1) * PAGE_SIZE)
        .await?;
    Ok(Json(AdvisoryList {
        total: result.total,
        page,
        page_size: PAGE_SIZE,
        items: result.rows.iter().map(AdvisoryItem::from).collect(),
    }))
}

#[derive(Serialize, ToSchema)]
pub struct AdvisoryDetailDto {
    pub advisory: AdvisoryItem,
    /// The summary drawn from every source: title, description, aliases,
    /// products, highest CVSS, KEV entry.
    #[schema(value_type = Object)]
    pub summary: serde_json::Value,
    /// Every source's record in openwarp's normalised model, with provenance.
    #[schema(value_type = Vec<Object>)]
    pub records: Vec<serde_json::Value>,
    /// The change log, newest first.
    #[schema(value_type = Vec<Object>)]
    pub changes: Vec<serde_json::Value>,
}

/// One advisory, found by its id or any alias (GHSA, GO, vendor ids…).
#[utoipa::path(get, path = "/api/v1/advisories/{id}", tag = "advisories", params(("id" = String, Path, description = "CVE id or alias")),
    responses((status = 200, body = AdvisoryDetailDto), (status = 404, body = ApiErrorBody)))]
pub async fn get_advisory(
    State(state): State<AppState>,
    ApiCaller(_user): ApiCaller,
    Path(id): Path<String>,
) -> Result<Json<AdvisoryDetailDto>, ApiError> {
    let vuln_id = state
        .store
        .resolve_vuln_id(id.trim())
        .await?
        .ok_or(AppError::NotFound("advisory"))?;
    let d = state
        .store
        .advisory(&vuln_id)
        .await?
        .ok_or(AppError::NotFound("advisory"))?;
    Ok(Json(AdvisoryDetailDto {
        advisory: AdvisoryItem::from(&d.row),
        summary: to_json(&d.summary),
        records: d.records.iter().map(to_json).collect(),
        changes: d.changes.iter().map(to_json).collect(),
    }))
}

/// Plain data always serialises; `Null` would only mark a bug, never panic.
fn to_json<T: Serialize>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}
